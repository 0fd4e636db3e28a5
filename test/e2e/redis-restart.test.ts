/**
 * A Redis restart under a running worker (its own redis-server, privateRedisWorker, started
 * empty again after `kill -9`): `/readyz` answers 503 at once while Redis is away, and the worker
 * — with the worker id it claimed itself, whose claim the restart lost — reconnects and goes on
 * scoring (it used to stop for good: WORKER_ID_LOST from its own queued renews).
 */
import { describe, expect, it } from 'vitest';
import { privateRedisWorker } from '../helpers/private-redis-worker.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection } from '../helpers/worker.js';

const prefix = `rs-restart-${process.pid}`;
// No RISKSTREAM_WORKER_ID: the worker claims `<host>-<n>` in Redis, the claim the restart loses.
// The server's client: refused while the server is down, commands wait.
const h = privateRedisWorker(prefix, {}, { env: { RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '' } });

const endpointEvent = (user: string): string => criticalDetection(user, { time: new Date().toISOString(), device: { id: 'd-9' } });

const levelOf = async (user: string): Promise<string | undefined> => {
  const res = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return res.status === 200 ? ((await res.json()) as { level: string }).level : undefined;
};

describe('Redis restart under a running worker', () => {
  it('readyz says not ready at once while Redis is away; afterwards the worker scores new input again', async () => {
    await h.server.client.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('before@example.com'));
    await waitFor(async () => (await levelOf('before@example.com')) === 'high', { timeout: 20_000, what: 'scored before the restart' });

    await h.server.kill();
    // Long enough for several identity renews (heartbeat 500 ms) to queue up while Redis is away.
    await new Promise((r) => setTimeout(r, 4_000));
    const t0 = Date.now();
    const ready = await fetch(`${h.worker.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons?: Record<string, string> }).reasons?.redis).toEqual(expect.any(String));

    await h.server.restart(); // empty: the worker id's claim, leases and consumer group are gone
    await h.server.client.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('after@example.com'));
    await waitFor(async () => (await levelOf('after@example.com')) === 'high', {
      timeout: 30_000,
      interval: 250,
      what: `scored after the restart; worker said: ${h.worker.output().slice(-2000)}`,
    });
    expect(h.worker.output()).not.toMatch(/worker identity taken by another process/);
  }, 60_000);
});
