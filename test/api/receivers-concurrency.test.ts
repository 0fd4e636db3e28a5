/**
 * `GET /v1/receivers` shows each receiver's send cap as the delivery worker applies it
 * (`concurrency`: most sends in flight to it per worker): a configured receiver's own setting or
 * the default half of `delivery.concurrency`, a self-registered stream's `ssf.per_stream_concurrency`;
 * a reload's new values at once.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { call, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-receivers-concurrency');
const redis = redisClient();
const ssfToken = 'ssf-token-receivers-concurrency-0123456';
const receiver = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'ssf',
  endpoint: 'http://127.0.0.1:9/events',
  audience: `https://${name}.test`,
  subject_format: 'email',
  ...extra,
});
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix, {
    delivery: { concurrency: 6 },
    receivers: [receiver('own-cap', { concurrency: 2 }), receiver('default-cap')],
    http: { ssf_tokens: [ssfToken] },
    ssf: { allowed_endpoints: ['127.0.0.1'], per_stream_concurrency: 3 },
  });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const caps = async (): Promise<Record<string, unknown>> => {
  const r = await call(w.url, '/v1/receivers', { token: w.cfg.adminToken });
  expect(r.status).toBe(200);
  return Object.fromEntries((r.json.receivers as Array<{ name: string; concurrency: unknown }>).map((x) => [x.name, x.concurrency]));
};

it('each receiver’s effective send cap: its own, the default half of delivery.concurrency, a stream’s per-stream cap', async () => {
  const created = await apiClient(() => w.url, ssfToken)('POST', '/ssf/streams', {
    delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/push' },
    events_requested: [CAEP_RISK],
  });
  expect(created.status).toBe(201);
  expect(await caps()).toEqual({ 'own-cap': 2, 'default-cap': 3, [`ssf-stream-${created.json.stream_id as string}`]: 3 });
});

it('a reload’s values at once', async () => {
  const file = join(w.cfg.dir, 'riskstream.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as { delivery: { concurrency: number } };
  cfg.delivery.concurrency = 9; // default cap: 4
  writeFileSync(file, stringify(cfg));
  await w.worker.reload();
  expect(await caps()).toMatchObject({ 'own-cap': 2, 'default-cap': 4 });
});
