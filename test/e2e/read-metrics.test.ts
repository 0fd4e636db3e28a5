/**
 * riskstream_events_read_total (docs/operations.md, Metrics: "input entries read by the router") counts
 * each input entry once per stream, also with the router in its own thread (counted there, reported
 * through the main thread's /metrics). No test held it (an outside-in audit of the docs; true).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { metricCounter as counter, writeBursts } from '../helpers/metric-bursts.js';

const redis = redisClient();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await cleanup(redis, p);
  redis.disconnect();
});

describe.each([true, false])('router_thread %s', (thread) => {
  it('bursts on both input streams: each entry read once, on its stream', async () => {
    const prefix = testPrefix('read-metrics');
    prefixes.push(prefix);
    const w: ApiWorker = await startApiWorker(prefix, { engine: { router_thread: thread } });
    try {
      const metrics = async (): Promise<string> => (await call(w.url, '/metrics', { token: w.cfg.adminToken })).text;
      const before = await metrics();
      const total = await writeBursts(redis, prefix);
      await waitFor(async () => counter(await metrics(), 'riskstream_events_processed_total') - counter(before, 'riskstream_events_processed_total') >= total, {
        what: 'every event processed',
      });
      await new Promise((r) => setTimeout(r, 500)); // a late double count would show by now
      const final = await metrics();
      const delta = (name: string, label = ''): number => counter(final, name, label) - counter(before, name, label);
      expect(delta('riskstream_events_read_total', ':login"')).toBe(total / 2);
      expect(delta('riskstream_events_read_total', ':activity"')).toBe(total / 2);
    } finally {
      await w.close();
    }
  }, 60_000);
});
