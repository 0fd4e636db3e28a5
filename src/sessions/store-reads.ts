import { getAll } from '../redis/client.js';
import type { DeviceIdentity } from './device-identity.js';
import type { SessionIdentity } from './identity.js';
import { storeError, type ListingContext } from './listing.js';

/**
 * The live copies of a session id, earliest login first, with their partitions. With `user`, only
 * that user's copy: the id in the user's partition may be another user's there (the user's own
 * login with it refused), which is no copy of theirs.
 */
export async function findCopies(c: ListingContext, sid: string, user?: string): Promise<Array<{ s: SessionIdentity; p: number }>> {
  const parts = user === undefined ? c.keys.partitionList : [c.keys.partitionOf(user)];
  const res = await getAll(
    c.redis,
    parts.map((p) => c.keys.session(p, sid)),
  ).catch(storeError);
  const out: Array<{ s: SessionIdentity; p: number }> = [];
  res.forEach((raw, i) => {
    const s = c.live(raw);
    if (s && (user === undefined || s.user === user)) out.push({ s, p: parts[i]! });
  });
  return out.sort((a, b) => a.s.login_at - b.s.login_at);
}

/** {@link SessionStore.lookupMany}: each session's stored identity (live or not) and tombstone, in one read. */
export async function lookupSessions(
  c: ListingContext,
  pairs: ReadonlyArray<{ sid: string; user: string }>,
): Promise<Array<{ s: SessionIdentity | null; revoked: boolean }>> {
  const keys: string[] = [];
  for (const p of pairs) {
    const part = c.keys.partitionOf(p.user);
    keys.push(c.keys.session(part, p.sid), c.keys.sessionTombstone(part, p.sid));
  }
  const raw = await getAll(c.redis, keys).catch(storeError);
  return pairs.map((_, i) => ({ s: identityOf(raw[2 * i] ?? null), revoked: raw[2 * i + 1] != null }));
}

/** The user's device registry: latest identity per device, most recently seen first. */
export async function userDevices(c: ListingContext, user: string): Promise<DeviceIdentity[]> {
  const all = await c.redis.hvals(c.keys.userDevices(user));
  const out: DeviceIdentity[] = [];
  for (const v of all) {
    const d = parse<DeviceIdentity>(v);
    if (d) out.push(d);
  }
  return out.sort((a, b) => b.last_seen - a.last_seen);
}

/** A stored identity's JSON read, or null when it is none. */
export function identityOf(raw: string | null): SessionIdentity | null {
  const s = parse<SessionIdentity>(raw);
  return s && typeof s.expires_at === 'number' ? s : null;
}

function parse<T>(raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}
