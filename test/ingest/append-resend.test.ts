/**
 * A connection lost after Redis ran an append and before its reply reached the worker: ioredis
 * resends the command once it reconnects (autoResendUnfulfilledCommands, on by default, as on
 * every riskstream connection). The resent append must add nothing — events without an `id` are
 * told apart downstream by their entry ids, so a doubled chunk doubles their counts (a DLP
 * threshold reached by half the events). The list bridge's move is one script that pops what it
 * appends: its resend moves the next items, never the same ones again. Real Redis behind a
 * loopback proxy that cuts the connection at that moment.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { appendInOrder, type AppendRecord } from '../../src/ingest/append-in-order.js';
import { bridgeOnce } from '../../src/ingest/list-bridge.js';
import { createIngestService } from '../../src/ingest/http-ingest.js';
import { loadConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/obs/metrics.js';
import { writeTestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { proxiedWorkerClient, type TcpProxy } from '../helpers/tcp-proxy.js';

const redis = redisClient();
const prefix = testPrefix('append-resend');
let proxy: TcpProxy;
let worker: Redis;
let through: Awaited<ReturnType<typeof proxiedWorkerClient>>;

beforeAll(async () => {
  // The worker's own connection options (reconnect, queue while reconnecting, resend).
  through = await proxiedWorkerClient('append-resend');
  ({ proxy, worker } = through);
});
afterAll(async () => {
  await through.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const values = async (stream: string): Promise<string[]> => (await redis.xrange(stream, '-', '+')).map(([, f]) => f[1]!);
/** A client write that runs a script (EVALSHA or EVAL) naming `key`. */
const runs = (key: string) => (sent: Buffer) => /EVAL/i.test(sent.toString('latin1')) && sent.includes(key);

it('HTTP ingest: a chunk whose reply was lost is appended once, not again by the resend', async () => {
  const streams = { login: `${prefix}:login`, activity: `${prefix}:activity` };
  await appendInOrder(worker, streams, [[streams.login, ['event', 'warm-up']]]); // the script is loaded
  const records: AppendRecord[] = [
    [streams.activity, ['event', 'dlp-1']],
    [streams.login, ['event', 'login-1']],
    [streams.activity, ['event', 'dlp-2']],
  ];
  const cut = proxy.cutAfterRun(runs(streams.login));
  await appendInOrder(worker, streams, records);
  await cut;
  expect(await values(streams.login)).toEqual(['warm-up', 'login-1']);
  expect(await values(streams.activity)).toEqual(['dlp-1', 'dlp-2']);
});

it('HTTP ingest: a chunk of dead letters whose reply was lost is appended once, not again by the resend', async () => {
  const cfg = await writeTestConfig(`${prefix}:http`);
  try {
    const config = loadConfig(cfg.dir);
    const ingest = createIngestService({ config: () => config, redis: worker, metrics: new Metrics(false) });
    const body = (lines: string[]): Buffer => Buffer.from(lines.join('\n'));
    const headers = { contentType: 'application/x-ndjson' };
    await ingest.accept(body(['{"warm-up"']), headers); // the scripts are loaded
    // Whatever writes the dead letters (a script, or XADDs as before the fix).
    const cut = proxy.cutAfterRun((sent) => sent.includes(config.streams.deadLetter));
    const res = await ingest.accept(body(['{"type":"login","user":"alice@example.com","time":1795420800000}', 'not json', '{"user":']), headers);
    await cut;
    expect(res).toMatchObject({ accepted: 1, rejected: 2 });
    const reasons = (await redis.xrange(config.streams.deadLetter, '-', '+')).map(([, f]) => f[f.indexOf('orig.event') + 1]);
    expect(reasons).toEqual(['{"warm-up"', 'not json', '{"user":']);
    expect(await redis.xlen(config.streams.login)).toBe(1);
  } finally {
    cfg.remove();
  }
});

it('list bridge: a move whose reply was lost moves each item once (the resend takes the next ones)', async () => {
  const list = `${prefix}:list`;
  const stream = `${prefix}:bridged`;
  await redis.rpush(list, 'a', 'b', 'c', 'd', 'e');
  expect(await bridgeOnce(worker, list, stream, 1)).toEqual({ moved: 1, left: 4 }); // the script is loaded
  const cut = proxy.cutAfterRun(runs(list));
  // The first run moved b and c; its reply was lost; the resend moved d and e and answered.
  expect(await bridgeOnce(worker, list, stream, 2)).toEqual({ moved: 2, left: 0 });
  await cut;
  expect(await values(stream)).toEqual(['a', 'b', 'c', 'd', 'e']);
  expect(await redis.llen(list)).toBe(0);
});
