import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import { clampPx, LUA_MAX_TTL_MS } from '../redis/ttl.js';
import { deviceIdentity, type DeviceIdentity, type SessionIdentity } from './identity.js';

/** The commit commands storing one partition's session identities, and what reads their replies needs. */
export interface SessionPutOps {
  /** The partition of the identities' users. */
  part: number;
  ops: string[][];
  /** The identities not yet expired (one SPUT each, in this order). */
  live: SessionIdentity[];
  /** Their users (one SUSER each, in this order). */
  users: string[];
  /** Identities already expired. */
  skipped: number;
}

/**
 * The commands storing identities (`SPUT` / `SUSER` procedures of the engine's commit script,
 * src/redis/scripts/engine-commit-2.lua, plus the partition's index ZADDs), for one partition's
 * commit: every identity must be of one partition's users. Pure (`now` given).
 */
export function sessionPutOps(k: Keys, identities: readonly SessionIdentity[], o: { now: number; maxPerUser: number; deviceRetention: number }): SessionPutOps {
  const { now } = o;
  const part = identities.length ? k.partitionOf(identities[0]!.user) : 0;
  if (identities.some((s) => k.partitionOf(s.user) !== part))
    throw new RiskstreamError('INTERNAL', 'session store: identities of several partitions in one commit');
  const live = identities.filter((s) => s.expires_at > now);
  const skipped = identities.length - live.length;
  const ops: string[][] = [];
  if (!live.length) return { part, ops, live, users: [], skipped };
  const byUser = new Map<string, { sessions: SessionIdentity[]; devices: Map<string, DeviceIdentity> }>();
  for (const s of live) {
    let u = byUser.get(s.user);
    if (!u) byUser.set(s.user, (u = { sessions: [], devices: new Map() }));
    u.sessions.push(s);
    const d = deviceIdentity(s);
    if (d && (u.devices.get(d.id)?.last_seen ?? -Infinity) <= d.last_seen) u.devices.set(d.id, d);
  }
  const byLogin: string[] = [];
  const byExpiry: string[] = [];
  for (const s of live) {
    ops.push([
      'SPUT',
      k.session(part, s.session_id),
      k.sessionTombstone(part, s.session_id),
      JSON.stringify(s),
      String(clampPx(s.expires_at - now)),
      String(s.login_at),
      s.user,
    ]);
    byLogin.push(String(s.login_at), s.session_id);
    byExpiry.push(String(s.expires_at), s.session_id);
  }
  // The partition's indexes: one multi-member ZADD each.
  ops.push(['ZADD', k.sessionsByLogin(part), 'GT', ...byLogin]);
  ops.push(['ZADD', k.sessionsByExpiry(part), 'GT', ...byExpiry]);
  for (const [user, u] of byUser) {
    const sessions: string[] = [];
    for (const x of u.sessions) sessions.push(String(x.expires_at), x.session_id);
    const devices: string[] = [];
    for (const d of u.devices.values()) devices.push(d.id, String(d.last_seen), JSON.stringify(d));
    ops.push([
      'SUSER',
      k.userSessions(user),
      k.userDevices(user),
      JSON.stringify([String(now), String(o.maxPerUser), String(o.deviceRetention), sessions, devices]),
      String(LUA_MAX_TTL_MS),
    ]);
  }
  return { part, ops, live, users: [...byUser.keys()], skipped };
}
