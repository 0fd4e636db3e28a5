/**
 * `riskstream risk reset` says what became of the change: "SET queued" only where a receiver takes
 * level changes (and one then arrives); with none configured it says no SET is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { criticalDetection } from '../helpers/worker.js';
import { runInProcess } from './in-process.js';

const prefix = testPrefix('cli-reset-msg');
const redis = redisClient();
const USER = 'olga@example.com';
let receiver: TestReceiver;
let w: ApiWorker;

beforeAll(async () => {
  receiver = await startReceiver();
  w = await startApiWorker(prefix, {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://receiver.test', subject_format: 'email' }],
  });
  await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(USER));
  await waitFor(async () => (await call(w.url, `/v1/users/${USER}/risk`, { token: w.cfg.adminToken })).json.level === 'high' || undefined, { what: 'high' });
});

afterAll(async () => {
  await w?.close();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('risk reset names the SET only when a receiver takes it', () => {
  it('a receiver configured: "SET queued", and the receiver gets the LOW', async () => {
    const r = await runInProcess(['risk', 'reset', USER, '--reason', 'reimaged', '--config', w.cfg.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/olga@example\.com: HIGH → LOW \(version 2\), SET queued/);
    await waitFor(() => receiver.received.some((s) => (eventOf(s).body as { current_level?: string }).current_level === 'LOW') || undefined, {
      what: 'the LOW SET',
    });
  });
});
