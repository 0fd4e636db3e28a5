import type { Redis } from 'ioredis';

/** One key's type, value and remaining TTL (ms, -1 = none). */
export interface KeySnapshot {
  type: string;
  value: unknown;
  pttl: number;
}

/**
 * Every key under `prefix` (names without the prefix), with its value read by type — string,
 * hash (sorted fields), zset (members with scores), stream (entries), list, set — and its PTTL:
 * the stored state two runs are compared by.
 */
export async function snapshot(redis: Redis, prefix: string): Promise<Map<string, KeySnapshot>> {
  const names: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    names.push(...batch);
  } while (cursor !== '0');
  const out = new Map<string, KeySnapshot>();
  for (const name of names.sort()) {
    const type = await redis.type(name);
    let value: unknown;
    if (type === 'string') value = await redis.get(name);
    else if (type === 'hash') value = Object.entries(await redis.hgetall(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    else if (type === 'zset') value = await redis.zrange(name, 0, -1, 'WITHSCORES');
    else if (type === 'stream') value = await redis.xrange(name, '-', '+');
    else if (type === 'list') value = await redis.lrange(name, 0, -1);
    else if (type === 'set') value = (await redis.smembers(name)).sort();
    out.set(name.slice(prefix.length), { type, value, pttl: await redis.pttl(name) });
  }
  return out;
}

/**
 * The differences of two snapshots (empty when alike): TTLs may differ by `slackMs` (the runs were
 * not at the same instant).
 */
export function snapshotDiff(a: Map<string, KeySnapshot>, b: Map<string, KeySnapshot>, slackMs = 2_000): string[] {
  const diffs: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y) diffs.push(`${name}: only in ${x ? 'the first' : 'the second'}`);
    else if (x.type !== y.type || JSON.stringify(x.value) !== JSON.stringify(y.value))
      diffs.push(`${name}: ${JSON.stringify(x.value)} ≠ ${JSON.stringify(y.value)}`);
    else if ((x.pttl < 0 || y.pttl < 0) && x.pttl !== y.pttl) diffs.push(`${name}: PTTL ${x.pttl} ≠ ${y.pttl}`);
    else if (Math.abs(x.pttl - y.pttl) > slackMs) diffs.push(`${name}: PTTL ${x.pttl} ≠ ${y.pttl}`);
  }
  return diffs;
}
