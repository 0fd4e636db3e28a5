/**
 * riskstream_engine_routed_total counts each input entry routed once (found by a black-box review:
 * entries held back by the watermark and released by a read that found nothing new were counted
 * twice — 1 030 routed for 1 000 read), an in-process worker on real Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { metricCounter as counter, writeBursts } from '../helpers/metric-bursts.js';

const redis = redisClient();
const prefix = testPrefix('routed-metrics');
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix, { engine: { router_thread: false } });
});
afterAll(async () => {
  await w.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

it('bursts on both input streams: routed = read = processed', async () => {
  const metrics = async (): Promise<string> => (await call(w.url, '/metrics', { token: w.cfg.adminToken })).text;
  const before = await metrics();
  const total = await writeBursts(redis, prefix);
  const after = await waitFor(
    async () => {
      const m = await metrics();
      return counter(m, 'riskstream_events_processed_total') - counter(before, 'riskstream_events_processed_total') >= total ? m : undefined;
    },
    { what: 'every event processed' },
  );
  await new Promise((r) => setTimeout(r, 300)); // a late double count would show by now
  const final = await metrics();
  const delta = (name: string): number => counter(final, name) - counter(before, name);
  expect(delta('riskstream_events_processed_total')).toBe(total);
  expect(delta('riskstream_engine_routed_total')).toBe(total);
  expect(after).toBeTruthy();
});
