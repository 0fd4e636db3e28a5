/**
 * CONTRACT §2 "acked, never lost" for a stream added to the configuration with a backlog: a shipper
 * (XADD `*`, as every shipper writes) fills a stream before the operator adds it to `streams.extra`;
 * by then the user's later events came in on the activity stream. Its entries are older than what
 * the user's partition already applied, so they cannot be applied in order. They were read, counted
 * in riskstream_engine_routed_present_total as if routed already, and acked: a critical EDR
 * detection gone without a trace. Now such an entry is dead-lettered (source stream and id, the
 * original fields, a reason), so it can be replayed. Entries read again after the consumer group
 * was deleted (test/e2e/group-deleted.test.ts) are still not applied twice, nor dead-lettered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { criticalDetection, spawnWorker, userRisk, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { recentIso } from '../helpers/clock.js';

const prefix = testPrefix('stream-backlog');
const redis = redisClient();
let cfg: TestConfig | undefined;
let worker: WorkerProcess | undefined;
afterAll(async () => {
  await worker?.stop();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** Every entry of `stream` read and acked by the worker's consumer group. */
async function drained(stream: string): Promise<boolean> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  return groups.some((g) => {
    const f: Record<string, unknown> = {};
    for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
    return f.name === 'riskstream' && Number(f.pending) === 0 && Number(f.lag) === 0;
  });
}

describe('a stream added to streams.extra with entries older than what was routed', () => {
  it('its entries that cannot be applied in order are dead-lettered with source stream, id and a reason (were dropped)', async () => {
    const user = 'backlog@example.com';
    const edr = `${prefix}:edr`;
    cfg = await writeTestConfig(prefix);
    // The EDR shipper starts first: its stream is not configured yet.
    const backlogId = (await redis.xadd(edr, '*', 'event', criticalDetection(user, { id: 'edr-1', time: recentIso(-60_000) })))!;
    worker = await spawnWorker(cfg.dir);
    // The user's later activity is routed and applied (the partition moves past the backlog).
    await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'dlp', id: 'dlp-1', user, time: recentIso(0), severity: 'high' }));
    await waitFor(async () => (await userRisk(worker!.url, cfg!.adminToken, user)).level === 'medium', { what: 'dlp applied' });
    expect(await worker.stop()).toBe(0);

    // The operator adds the EDR stream.
    const file = join(cfg.dir, 'riskstream.yaml');
    const main = parse(readFileSync(file, 'utf8')) as { streams: Record<string, unknown> };
    main.streams.extra = [edr];
    writeFileSync(file, stringify(main));
    worker = await spawnWorker(cfg.dir);
    await waitFor(() => drained(edr), { what: 'the EDR stream read and acked', timeout: 20_000 });

    const dead = (await redis.xrange(`${prefix}:dead-letter`, '-', '+')).map(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      return f;
    });
    const mine = dead.filter((f) => f.source_stream === edr && f.source_id === backlogId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.reason).toMatch(/^entry id: /);
    expect(JSON.parse(mine[0]!['orig.event']!)).toMatchObject({ user, id: 'edr-1' });

    // Later entries of the stream are applied as usual.
    await redis.xadd(edr, '*', 'event', criticalDetection(user, { id: 'edr-2', time: recentIso(1000) }));
    await waitFor(async () => (await userRisk(worker!.url, cfg!.adminToken, user)).level === 'high', { what: 'a new EDR detection applied' });
  }, 90_000);

  it('a backlog entry read by a router that stopped before routing it is dead-lettered when re-read from the pending entries (was: acked unseen)', async () => {
    const user = 'backlog-pending@example.com';
    const edr = `${prefix}:edr-pending`;
    await worker?.stop();
    // The EDR shipper starts first: its stream is not configured yet.
    const backlogId = (await redis.xadd(edr, '*', 'event', criticalDetection(user, { id: 'edr-p', time: recentIso(-60_000) })))!;
    worker = await spawnWorker(cfg!.dir);
    await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'dlp', id: 'dlp-p', user, time: recentIso(0), severity: 'high' }));
    await waitFor(async () => (await userRisk(worker!.url, cfg!.adminToken, user)).level === 'medium', { what: 'dlp applied' });
    expect(await worker.stop()).toBe(0);

    const file = join(cfg!.dir, 'riskstream.yaml');
    const main = parse(readFileSync(file, 'utf8')) as { streams: Record<string, unknown> };
    main.streams.extra = [...((main.streams.extra as string[] | undefined) ?? []), edr];
    writeFileSync(file, stringify(main));
    // A router read the backlog entry and stopped (crash, lease lost) before its routing step: the
    // entry is pending, delivered once, never written to a partition.
    await redis.xgroup('CREATE', edr, 'riskstream', '0');
    await redis.xreadgroup('GROUP', 'riskstream', 'riskstream-router', 'COUNT', 1, 'STREAMS', edr, '>');
    worker = await spawnWorker(cfg!.dir);
    await waitFor(() => drained(edr), { what: 'the EDR stream read and acked', timeout: 20_000 });
    const dead = (await redis.xrange(`${prefix}:dead-letter`, '-', '+')).filter(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      return f.source_stream === edr && f.source_id === backlogId;
    });
    expect(dead).toHaveLength(1);
  }, 90_000);

  it('entries read again after the consumer group was deleted are neither applied twice nor dead-lettered', async () => {
    const user = 'regroup@example.com';
    const stream = `${prefix}:activity`;
    await redis.xadd(stream, '*', 'event', criticalDetection(user, { id: 'edr-g', time: recentIso(2000) }));
    await waitFor(async () => (await userRisk(worker!.url, cfg!.adminToken, user)).level === 'high', { what: 'detection applied' });
    await waitFor(() => drained(stream), { what: 'acked' });
    const before = await redis.xlen(`${prefix}:dead-letter`);
    await redis.xgroup('DESTROY', stream, 'riskstream');
    const marker = 'after-regroup@example.com';
    await redis.xadd(stream, '*', 'event', criticalDetection(marker, { id: 'edr-m', time: recentIso(3000) }));
    await waitFor(async () => (await userRisk(worker!.url, cfg!.adminToken, marker)).level === 'high', { what: 'routing went on', timeout: 20_000 });
    await waitFor(() => drained(stream), { what: 'everything re-read and acked' });
    expect(await redis.xlen(`${prefix}:dead-letter`)).toBe(before);
    expect((await userRisk(worker!.url, cfg!.adminToken, user)).version).toBe(1);
  }, 60_000);
});
