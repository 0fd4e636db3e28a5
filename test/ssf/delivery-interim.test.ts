import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import type { DeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { EgressLimiter } from '../../src/ssf/egress.js';
import { EndpointPolicy } from '../../src/ssf/endpoint-policy.js';
import { enqueueLevelChange, type SetQueue } from '../../src/ssf/queue.js';
import { startTestDelivery } from './delivery-harness.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-interim');
const keys = new Keys(prefix);
const receivers = new Map<string, ResolvedReceiver>();
const sockets = new Set<Socket>();
let redis: Redis;
let q: SetQueue;
let audit: AuditLog;
let worker: DeliveryWorker;
let port = 0;
const server = createServer((s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.on('error', () => undefined);
  // A hostile receiver: `100 Continue` after `100 Continue`, as fast as the socket takes them, never a final answer.
  s.once('data', () => {
    const flood = (): void => {
      if (!s.destroyed) s.write('HTTP/1.1 100 Continue\r\n\r\n'.repeat(1000), flood);
    };
    flood();
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  redis = redisClient();
  ({ q, audit, worker } = await startTestDelivery(redis, keys, prefix, receivers, {
    delivery: { concurrency: 8, backoff_base: 60_000, backoff_max: 60_000 },
    egress: { policy: new EndpointPolicy(['127.0.0.1']), limiter: new EgressLimiter(2, 4) },
  }));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await worker.close();
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('a receiver flooding interim (1xx) answers', () => {
  it.each([
    ['configured receiver', false],
    ['self-registered stream', true],
  ])('%s: the connection is closed after a few, not parsed until the timeout (a busy core)', async (_what, selfRegistered) => {
    const r = testReceiver(`interim-${String(selfRegistered)}`, `http://127.0.0.1:${port}/events`, { timeout: 10_000, selfRegistered });
    receivers.set(r.name, r);
    const started = Date.now();
    const cpu = process.cpuUsage();
    await enqueueLevelChange(q, change(`u-${String(selfRegistered)}@example.com`, 1, 'low', 'high'), [r]);
    const [retry] = await waitFor(
      async () => {
        const e = (await audit.list({ action: 'set.retry', count: 100 })).entries.filter((x) => x.details.receiver === r.name);
        return e.length ? e : undefined;
      },
      { timeout: 5_000, what: 'set.retry for the flooding receiver' },
    );
    expect(retry!.details).toMatchObject({ outcome: 'network', message: 'more than 8 interim (1xx) responses' });
    expect(Date.now() - started).toBeLessThan(3_000);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(2_000);
  });
});
