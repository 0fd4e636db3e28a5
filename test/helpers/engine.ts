import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.js';
import { compareKeys, parseKey } from '../../src/partition.js';
import { decodeState } from '../../src/risk/state-codec.js';
import type { UserState } from '../../src/risk/state.js';

/** A user's committed state, as the partition owner stored it (null when unknown or unreadable). */
export async function readState(redis: Redis, keys: Keys, user: string): Promise<UserState | null> {
  return decodeState(await redis.hgetBuffer(keys.userState(user), user), user);
}

/** Users' committed states (users without one are left out). */
export async function readStates(redis: Redis, keys: Keys, users: readonly string[]): Promise<Map<string, UserState>> {
  const p = redis.pipeline();
  for (const u of users) p.hgetBuffer(keys.userState(u), u);
  const res = (await p.exec()) ?? [];
  const out = new Map<string, UserState>();
  users.forEach((u, i) => {
    const [err, data] = res[i] ?? [];
    if (err) throw err;
    const s = decodeState(data as Buffer | null, u);
    if (s) out.set(u, s);
  });
  return out;
}

/**
 * Why the engine still has routed work to do, or null: a partition stream holding an entry above
 * its committed position (routed, not yet applied and committed), or a behavior expiry already
 * due in a partition's index (its owner's sweep will commit a change).
 */
export async function engineBehind(redis: Redis, keys: Keys, now = Date.now()): Promise<string | null> {
  const p = redis.pipeline();
  for (let n = 0; n < keys.partitions; n++) {
    p.xrevrange(keys.partitionIn(n), '+', '-', 'COUNT', 1);
    p.hget(keys.partitionPos(n), 'pos');
    p.zrangebyscore(keys.partitionExpiry(n), '-inf', now, 'LIMIT', 0, 1);
  }
  const res = (await p.exec()) ?? [];
  for (let n = 0; n < keys.partitions; n++) {
    const [[e1, top], [e2, pos], [e3, due]] = [res[3 * n]!, res[3 * n + 1]!, res[3 * n + 2]!];
    if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
    const last = (top as Array<[string, string[]]>)[0]?.[0];
    if (last && (!pos || compareKeys(parseKey(String(pos)), parseKey(last)) < 0))
      return `partition ${n}: routed up to ${last}, committed ${String(pos ?? 'nothing')}`;
    if ((due as string[]).length) return `partition ${n}: expiry of ${(due as string[])[0]} due`;
  }
  return null;
}
