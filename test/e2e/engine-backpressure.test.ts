/**
 * Back-pressure between the router and the partition owners (real worker, real Redis): while the
 * owners are behind — here they cannot start at all, another holder keeping every partition's
 * lease — routing pauses once the partition streams hold `engine.max_routed` entries, and the rest
 * waits in the input stream (where `streams.max_lag` and the lag gauges see it); once the owners
 * run, everything is applied.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, zcardAll } from '../helpers/redis.js';
import { inProcessWorker } from '../helpers/worker.js';

const { redis, prefix, keys, start } = inProcessWorker('e2e-backpressure');
const MAX_ROUTED = 6;
const USERS = 120;

const routedEntries = async (): Promise<number> => {
  const p = redis.pipeline();
  for (let i = 0; i < 64; i++) p.xlen(keys.partitionIn(i));
  return ((await p.exec()) ?? []).reduce((a, [, n]) => a + Number(n ?? 0), 0);
};

describe('engine back-pressure', () => {
  it('routing pauses while the partition streams hold engine.max_routed entries; the rest waits in the input; all applied once owners run', async () => {
    // Another holder keeps every partition: this worker routes but cannot own.
    for (let p = 0; p < 64; p++) await redis.set(keys.engineLease(`p${p}`), 'ghost#1', 'PX', 60_000);
    await start({ streams: { batch_size: 4, block: '100ms' }, engine: { max_routed: MAX_ROUTED, lease_ttl: '2s', heartbeat: '300ms' } });
    const time = new Date().toISOString();
    for (let i = 0; i < USERS; i++) {
      await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'access', id: `a-${i}`, user: `u${i}@example.com`, time, app: 'mail' }));
    }
    // Routing starts, then stops near the limit: steps overlap (a step reads while the previous one
    // writes), so up to a few steps of 4 entries each may land past it — not the 120 unpaused.
    await waitFor(async () => (await routedEntries()) >= MAX_ROUTED, { what: 'partition streams filled to the limit' });
    await new Promise((r) => setTimeout(r, 1500));
    const held = await routedEntries();
    expect(held).toBeGreaterThanOrEqual(MAX_ROUTED);
    expect(held).toBeLessThanOrEqual(MAX_ROUTED + 3 * 4);
    const groups = (await redis.xinfo('GROUPS', `${prefix}:activity`)) as unknown[][];
    const read = Number(groups[0]![groups[0]!.indexOf('entries-read') + 1]);
    expect(read).toBeLessThan(USERS); // the rest is still in the input stream, unread
    expect(await zcardAll(redis, keys, (p) => keys.usersByLevel(p))).toBe(0); // nothing applied: no owner

    // The holder goes: this worker takes the partitions, applies and commits, routing resumes.
    for (let p = 0; p < 64; p++) await redis.del(keys.engineLease(`p${p}`));
    await waitFor(async () => (await zcardAll(redis, keys, (p) => keys.usersByLevel(p))) === USERS, { timeout: 20_000, what: 'every user applied' });
    expect(await routedEntries()).toBeLessThanOrEqual(64); // trimmed as committed (at most the last entry each)
  });
});
