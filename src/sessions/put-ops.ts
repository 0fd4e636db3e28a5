import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import { clampPx, LUA_MAX_TTL_MS } from '../redis/ttl.js';
import { deviceIdentity, type DeviceIdentity } from './device-identity.js';
import type { SessionIdentity } from './identity.js';
import { sessionPairKey } from './pair-key.js';
import { SIGN_OUT_ONLY_KEPT_MS } from './sign-out.js';

/** `d` with `posture`, its fields in the stored order (id, posture, last_seen, ip, session_id). */
function withPosture(d: DeviceIdentity, posture: Record<string, unknown>): DeviceIdentity {
  return d.ip
    ? { id: d.id, posture, last_seen: d.last_seen, ip: d.ip, session_id: d.session_id }
    : { id: d.id, posture, last_seen: d.last_seen, session_id: d.session_id };
}

/** The commit commands storing one partition's session identities, and what reads their replies needs. */
export interface SessionPutOps {
  /** The partition of the identities' users. */
  part: number;
  ops: string[][];
  /** The identities stored (one SPUT each, in this order), those already expired on the wall clock too. */
  live: SessionIdentity[];
  /** The users of those not expired (one SUSER each, in this order). */
  users: string[];
  /** Identities already expired on the wall clock: stored as session_hijack's baseline only, never indexed. */
  skipped: number;
  /** Those of `live` that are. */
  unlisted?: ReadonlySet<SessionIdentity>;
  /** Those of `live` a sign-out ended (one `SEND` each, src/sessions/sign-out.ts). */
  ended?: ReadonlySet<SessionIdentity>;
}

/** An indexed SPUT while preparing: its command and its index pairs' values. */
interface Indexed {
  op: string[];
  user: string;
  login: string;
  expires: string;
  id: string;
  /**
   * A sign-out later in the same commit ended its session: indexed all the same, so that it counts
   * toward `max_per_user` as it did from its login on (in event-time order), then taken out (`SOFF`).
   */
  out?: true;
}

/** A sign-out's place among the indexed SPUTs, of a session an earlier one of them indexed: SUSER's `-` pair. */
interface Off {
  off: true;
  user: string;
  id: string;
}

/** A user's live sessions (`expires_at`, id pairs) and latest devices, while preparing. */
interface UserPuts {
  sessions: string[];
  /** Per device, its entries in order: the latest of each run of logins with one session id. */
  devices: Map<string, Array<{ d: DeviceIdentity; seen: string }>> | undefined;
}

/**
 * `String(ms)` for an epoch time, ≈ 5× faster for the usual whole milliseconds of this era (13
 * digits, beyond V8's small integers, which it formats as any double): the two halves are small
 * integers. Anything else → `String(ms)`.
 */
function epochText(ms: number): string {
  if (!(ms >= 1e9 && ms < 1e15) || Math.floor(ms) !== ms) return String(ms);
  const hi = Math.floor(ms / 1e6); // exact: 1e15 / 1e6 is far inside a double's precision
  const lo = ms - hi * 1e6;
  return `${hi}${lo >= 1e5 ? '' : lo >= 1e4 ? '0' : lo >= 1e3 ? '00' : lo >= 100 ? '000' : lo >= 10 ? '0000' : '00000'}${lo}`;
}

/**
 * The commands storing identities (`SPUT`, `SEND`, `SIDX`, `SUSER` and `SOFF` procedures of the engine's commit script,
 * src/redis/scripts/engine-commit-n.lua), for one partition's
 * commit: every identity must be of one partition's users. Pure (`now` given). An identity already
 * expired on the wall clock (a backfill, a shipper far behind) is stored all the same, for its
 * lifetime from now, but not indexed (no listing shows it): it is the baseline of its session's
 * uses, which event time judges (src/sessions/baseline.ts), and a restarted worker must find it as
 * the one that kept it in memory did. An identity a sign-out ended (`signed_out_at`) is a `SEND`:
 * stored over its session, kept out of every index.
 */
export function sessionPutOps(k: Keys, identities: readonly SessionIdentity[], o: { now: number; maxPerUser: number; deviceRetention: number }): SessionPutOps {
  const { now } = o;
  const part = identities.length ? k.partitionOf(identities[0]!.user) : 0;
  const live: SessionIdentity[] = [];
  const ops: string[][] = [];
  // The partition's indexes (the script's SIDX: ZADD GT of the logins it stores).
  const byLogin = ['SIDX', k.sessionsByLogin(part)];
  const byExpiry = ['SIDX', k.sessionsByExpiry(part)];
  // One pass (no closures, no intermediate arrays, each time turned into text once); a user's
  // partition is checked once.
  const byUser = new Map<string, UserPuts>();
  let unlisted: Set<SessionIdentity> | undefined;
  let ended: Set<SessionIdentity> | undefined;
  const indexed: Array<Indexed | Off> = [];
  // The indexed SPUTs by user and session id, once a sign-out is among the identities.
  let byPair: Map<string, Indexed[]> | undefined;
  if (identities.some((s) => s.signed_out_at !== undefined)) byPair = new Map();
  for (const s of identities) {
    if (s.signed_out_at !== undefined) {
      if (k.partitionOf(s.user) !== part) throw new RiskstreamError('INTERNAL', 'session store: identities of several partitions in one commit');
      live.push(s);
      (ended ??= new Set()).add(s);
      // An earlier login of this commit indexed the session: the index commands run after every
      // SPUT and SEND, so its members are taken out after them (SOFF) rather than by the SEND.
      const earlier = byPair?.get(sessionPairKey(s.user, s.session_id));
      for (const x of earlier ?? []) x.out = true;
      if (earlier?.length) indexed.push({ off: true, user: s.user, id: s.session_id });
      const key = k.session(part, s.session_id);
      // Its time to live when it replaces no stored session (the script keeps a stored one's): a
      // sign-out kept with no login, or a late login it ended — its window's length from now.
      const px = clampPx(s.sign_out_only ? SIGN_OUT_ONLY_KEPT_MS : Math.max(s.expires_at - now, s.expires_at - s.login_at));
      ops.push([
        'SEND',
        key,
        k.sessionTombstone(part, s.session_id),
        JSON.stringify(s),
        epochText(s.login_at),
        s.user,
        k.sessionsByLogin(part),
        k.sessionsByExpiry(part),
        k.userSessions(s.user),
        s.session_id,
        String(px),
      ]);
      continue;
    }
    const isLive = s.expires_at > now;
    let u = isLive ? byUser.get(s.user) : undefined;
    if (!u && k.partitionOf(s.user) !== part) throw new RiskstreamError('INTERNAL', 'session store: identities of several partitions in one commit');
    if (!isLive) {
      // An empty window (it ends where it starts): no use can be compared with it.
      if (!(s.expires_at > s.login_at)) continue;
      live.push(s);
      (unlisted ??= new Set()).add(s);
      const px = String(clampPx(s.expires_at - s.login_at));
      ops.push(['SPUT', k.session(part, s.session_id), k.sessionTombstone(part, s.session_id), JSON.stringify(s), px, epochText(s.login_at), s.user]);
      continue;
    }
    if (!u) byUser.set(s.user, (u = { sessions: [], devices: undefined }));
    live.push(s);
    const login = epochText(s.login_at);
    const op = [
      'SPUT',
      k.session(part, s.session_id),
      k.sessionTombstone(part, s.session_id),
      JSON.stringify(s),
      String(clampPx(s.expires_at - now)),
      login,
      s.user,
      byLogin[1]!,
      s.session_id,
    ];
    ops.push(op);
    const x: Indexed = { op, user: s.user, login, expires: epochText(s.expires_at), id: s.session_id };
    indexed.push(x);
    if (byPair) {
      const pair = sessionPairKey(s.user, s.session_id);
      const list = byPair.get(pair);
      if (list) list.push(x);
      else byPair.set(pair, [x]);
    }
    const d = deviceIdentity(s);
    const entries = d ? (u.devices ??= new Map()).get(d.id) : undefined;
    const prev = entries?.[entries.length - 1];
    if (d && (prev?.d.last_seen ?? -Infinity) <= d.last_seen) {
      const seen = epochText(d.last_seen);
      if (!entries) u.devices!.set(d.id, [{ d, seen }]);
      // Another session's login from the device: both are sent, in order — the script may refuse
      // either's session (its id another user's) and then leaves its device entry out; it carries a
      // stored posture over itself.
      else if (prev!.d.session_id !== d.session_id) entries.push({ d, seen });
      // The same device again without a posture keeps the one reported before in this commit (the
      // store carries a stored posture over itself).
      else entries[entries.length - 1] = { d: d.posture === undefined && prev!.d.posture !== undefined ? withPosture(d, prev!.d.posture) : d, seen };
    }
  }
  // The index pairs, in the indexed SPUTs' order (those a later sign-out ended too: taken out by SOFF).
  let offs: Indexed[] | undefined;
  for (const x of indexed) {
    if ('off' in x) {
      byUser.get(x.user)!.sessions.push('-', x.id);
      continue;
    }
    if (x.out) (offs ??= []).push(x);
    byLogin.push(x.login, x.id);
    byExpiry.push(x.expires, x.id);
    byUser.get(x.user)!.sessions.push(x.expires, x.id);
  }
  const skipped = identities.length - live.length + (unlisted?.size ?? 0);
  const marks = { ...(unlisted ? { unlisted } : {}), ...(ended ? { ended } : {}) };
  if (!byUser.size) return { part, ops, live, users: [], skipped, ...marks };
  // The partition's indexes: one SIDX each.
  ops.push(byLogin, byExpiry);
  // SUSER's arguments, flat (the script reads them without a JSON decode): the keys and user of
  // trimmed sessions, settings, the count of session values, the sessions (expires_at, id, …), then
  // the devices (id, last_seen, json, …).
  const nowText = String(now);
  const maxText = String(o.maxPerUser);
  const retention = String(o.deviceRetention);
  const users: string[] = [];
  // Where SUSER deletes the sessions it trims: the partition's session keys (`prefix + id`) and indexes.
  const sessionPrefix = k.session(part, '');
  for (const [user, u] of byUser) {
    users.push(user);
    const op = [
      'SUSER',
      k.userSessions(user),
      k.userDevices(user),
      sessionPrefix,
      byLogin[1]!,
      byExpiry[1]!,
      user,
      nowText,
      maxText,
      retention,
      LUA_MAX_TTL_MS,
      String(u.sessions.length),
      ...u.sessions,
    ];
    if (u.devices) for (const list of u.devices.values()) for (const { d, seen } of list) op.push(d.id, seen, JSON.stringify(d));
    ops.push(op);
  }
  // After SUSER's trim (an ended session counted, as from its login on): out of every index, when still ended.
  for (const x of offs ?? []) ops.push(['SOFF', k.session(part, x.id), byLogin[1]!, byExpiry[1]!, k.userSessions(x.user), x.id, x.user]);
  return { part, ops, live, users, skipped, ...marks };
}
