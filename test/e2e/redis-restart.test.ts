/**
 * A Redis restart under a running worker (its own redis-server, startPrivateRedis, started
 * empty again after `kill -9`): `/readyz` answers 503 at once while Redis is away, and the worker
 * — with the worker id it claimed itself, whose claim the restart lost — reconnects and goes on
 * scoring (it used to stop for good: WORKER_ID_LOST from its own queued renews).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = `rs-restart-${process.pid}`;
let server: PrivateRedis;
let cfg: TestConfig;
let worker: WorkerProcess;

const endpointEvent = (user: string): string =>
  JSON.stringify({
    type: 'endpoint',
    user,
    time: new Date().toISOString(),
    device: { id: 'd-9' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
  });

const levelOf = async (user: string): Promise<string | undefined> => {
  const res = await fetch(`${worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return res.status === 200 ? ((await res.json()) as { level: string }).level : undefined;
};

beforeAll(async () => {
  server = await startPrivateRedis(); // its client: refused while the server is down, commands wait
  cfg = await writeTestConfig(prefix, { redis: { url: server.url, prefix } });
  // No RISKSTREAM_WORKER_ID: the worker claims `<host>-<n>` in Redis, the claim the restart loses.
  worker = await spawnWorker(cfg.dir, { REDIS_URL: server.url, RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '' });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  cfg?.remove();
}, 30_000);

describe('Redis restart under a running worker', () => {
  it('readyz says not ready at once while Redis is away; afterwards the worker scores new input again', async () => {
    await server.client.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('before@example.com'));
    await waitFor(async () => (await levelOf('before@example.com')) === 'high', { timeout: 20_000, what: 'scored before the restart' });

    await server.kill();
    // Long enough for several identity renews (heartbeat 500 ms) to queue up while Redis is away.
    await new Promise((r) => setTimeout(r, 4_000));
    const t0 = Date.now();
    const ready = await fetch(`${worker.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons?: Record<string, string> }).reasons?.redis).toEqual(expect.any(String));

    await server.restart(); // empty: the worker id's claim, leases and consumer group are gone
    await server.client.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('after@example.com'));
    await waitFor(async () => (await levelOf('after@example.com')) === 'high', {
      timeout: 30_000,
      interval: 250,
      what: `scored after the restart; worker said: ${worker.output().slice(-2000)}`,
    });
    expect(worker.output()).not.toMatch(/worker identity taken by another process/);
  }, 60_000);
});
