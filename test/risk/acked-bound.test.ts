/**
 * StreamSource.ackedBelow — the bound below which every input entry is acked, used to trim the
 * applied markers and, stored per user, to skip redeliveries whose markers are gone. It must never
 * exceed an entry that is pending or still unread, whatever the clocks say.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamSource } from '../../src/ingest/stream-source.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
let prefix: string;
let login: string;
let activity: string;

beforeEach(async () => {
  if (prefix) await cleanup(redis, prefix);
  prefix = testPrefix('acked-bound');
  login = `${prefix}:login`;
  activity = `${prefix}:activity`;
});

afterAll(async () => {
  if (prefix) await cleanup(redis, prefix);
  redis.disconnect();
});

function source(count = 10): StreamSource {
  return new StreamSource(redis, { streams: [login, activity], group: 'g', consumer: 'c1', count, blockMs: 10, claimIdleMs: 60_000 });
}

const ms = (id: string): number => Number(id.split('-')[0]);

async function redisNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('StreamSource.ackedBelow', () => {
  it('is the smallest pending id while a batch is in flight, per stream and overall', async () => {
    const src = source(2);
    await src.ensureGroups();
    const l1 = (await redis.xadd(login, '*', 'event', '{}'))!;
    await new Promise((r) => setTimeout(r, 5));
    const a1 = (await redis.xadd(activity, '*', 'event', '{}'))!;
    const batch = await src.read();
    expect(batch.entries.map((e) => e.id)).toEqual([l1, a1]);
    expect(batch.ackedBelowByStream).toEqual({ [login]: ms(l1), [activity]: ms(a1) });
    expect(batch.ackedBelow).toBe(ms(l1));
    for (const e of batch.entries) expect(ms(e.id)).toBeGreaterThanOrEqual(batch.ackedBelowByStream[e.stream]!);
  });

  it('a backlog older than a minute, unread, is never below the bound (it was with "now - 60 s")', async () => {
    const src = source(2);
    const old = Date.now() - 10 * 60_000;
    for (let k = 0; k < 5; k++) await redis.xadd(activity, `${old + k}-0`, 'event', '{}');
    await src.ensureGroups();
    // Nothing pending at all, entries unread: the bound stays at the group's last delivered id.
    expect(await src.ackedBelow()).toBe(0);
    const batch = await src.read(Date.now() + 5000); // (a read a while later: a fresh bound)
    expect(batch.entries).toHaveLength(2);
    await src.ack(batch.entries);
    // Nothing pending again, three entries unread behind the last delivered one.
    expect(await src.ackedBelow(Date.now() + 10_000)).toBe(old + 1);
    const rest = await src.read(Date.now() + 15_000);
    for (const e of rest.entries) expect(ms(e.id)).toBeGreaterThanOrEqual(rest.ackedBelowByStream[activity]!);
  });

  it('all read and acked: follows Redis’s clock less a minute, never ahead of the next entry', async () => {
    const src = source(100);
    await src.ensureGroups();
    for (let k = 0; k < 3; k++) await redis.xadd(login, '*', 'event', '{}');
    const batch = await src.read();
    await src.ack(batch.entries);
    const before = await redisNow();
    const bound = await src.ackedBelow(Date.now() + 5000);
    expect(bound).toBeLessThanOrEqual(before);
    expect(bound).toBeGreaterThanOrEqual(before - 61_000);
    const next = (await redis.xadd(login, '*', 'event', '{}'))!;
    expect(ms(next)).toBeGreaterThanOrEqual(bound);
  });

  it('a stale bound stays true: refreshed at most once a second', async () => {
    const src = source(10);
    await src.ensureGroups();
    await redis.xadd(login, '*', 'event', '{}');
    const t = Date.now();
    const first = await src.ackedBelow(t);
    await src.ack((await src.read(t + 100)).entries);
    expect(await src.ackedBelow(t + 500)).toBe(first);
    expect(await src.ackedBelow(t + 1500)).toBeGreaterThanOrEqual(first);
  });
});
