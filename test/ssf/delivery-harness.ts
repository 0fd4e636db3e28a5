/** A delivery worker over a real Redis for SSF delivery tests: queue, audit log, signing key and worker, with the tests' usual settings. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import { startDeliveryWorker, type DeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { createSetQueue, type SetQueue } from '../../src/ssf/queue.js';
import { createLogger } from '../../src/obs/logger.js';
import { connect as connectWorker } from '../../src/runtime/connections.js';
import { cleanup, redisClient } from '../helpers/redis.js';
import { proxyTestRedis, type startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

type WorkerOptions = Parameters<typeof startDeliveryWorker>[0];

/** What {@link startTestDelivery} started. */
export interface TestDelivery {
  q: SetQueue;
  audit: AuditLog;
  worker: DeliveryWorker;
}

/**
 * Starts a delivery worker on `redis` under `prefix` (audit log `<prefix>:audit`, a fresh ES256 key),
 * resolving receivers from `receivers`; `delivery` overrides the default settings (concurrency 4,
 * backoff 200 ms to 1 s), `egress` as the worker takes it.
 */
export async function startTestDelivery(
  redis: Redis,
  keys: Keys,
  prefix: string,
  receivers: ReadonlyMap<string, ResolvedReceiver>,
  opts: { delivery?: Partial<WorkerOptions['delivery']>; egress?: WorkerOptions['egress'] } = {},
): Promise<TestDelivery> {
  const ring = new KeyRing();
  await ring.rotate('ES256');
  const q = createSetQueue(redis, keys);
  const audit = new AuditLog(redis, `${prefix}:audit`);
  const worker = startDeliveryWorker({
    connection: redis,
    keys,
    registry: { get: (n) => receivers.get(n) },
    keyRing: ring,
    issuer: 'https://riskstream.test',
    audit,
    delivery: { concurrency: 4, horizon: 86_400_000, backoff_base: 200, backoff_max: 1000, invalid_key_retry: 250, ...opts.delivery },
    ...(opts.egress ? { egress: opts.egress } : {}),
    closeTimeoutMs: 1000,
  });
  return { q, audit, worker };
}

/** What {@link deliveryHarness} sets up for a test file: `redis`, `q`, `audit` and `worker` filled in `beforeAll`. */
export interface DeliveryHarness extends TestDelivery {
  keys: Keys;
  redis: Redis;
  /** Run first after the file (servers that hang: their sends end at once), then the worker closes. */
  closers: Array<() => Promise<void> | void>;
}

/**
 * The usual delivery test file: before its tests a client on the shared Redis and
 * {@link startTestDelivery} under `prefix` (`new Keys(prefix)`, `opts` as it takes them); after
 * them the `closers`, the worker and the queue closed, the prefix purged and the client quit.
 */
export function deliveryHarness(
  prefix: string,
  receivers: ReadonlyMap<string, ResolvedReceiver>,
  opts: Parameters<typeof startTestDelivery>[4] = {},
): DeliveryHarness {
  const h = { keys: new Keys(prefix), closers: [] as DeliveryHarness['closers'] } as DeliveryHarness;
  beforeAll(async () => {
    h.redis = redisClient();
    Object.assign(h, await startTestDelivery(h.redis, h.keys, prefix, receivers, opts));
  });
  afterAll(async () => {
    for (const c of h.closers) await c();
    await h.worker.close();
    await h.q.close();
    await cleanup(h.redis, prefix);
    await h.redis.quit();
  });
  return h;
}

/** The most of `times` (ms) within any window of `ms` (from one of them, its end excluded): what a rate limit bounds. */
export function mostWithin(times: readonly number[], ms: number): number {
  return Math.max(0, ...times.map((a) => times.filter((b) => b >= a && b < a + ms).length));
}

/** What {@link proxiedDeliveries} sets up for a test file: filled in `beforeAll`. */
export interface ProxiedDeliveries {
  /** A plain client on the test Redis. */
  redis: Redis;
  /** A loopback proxy before the test Redis (stalled as `proxyOpts` say) and a client through it with the worker's connection options. */
  proxy: TcpProxy;
  viaProxy: Redis;
  /** Deliveries the test starts (through either client): closed after the file, the proxy resumed first. */
  started: TestDelivery[];
  /** Run after the deliveries closed (a receiver's close). */
  closers: Array<() => Promise<void> | void>;
}

/**
 * Delivery workers on one queue, some of them cut off from Redis by a loopback proxy (what a
 * worker stalled or partitioned away does to its deliveries): the proxy with `proxyOpts`, the
 * clients, and after the file everything closed and `prefix` purged.
 */
export function proxiedDeliveries(prefix: string, proxyOpts: Parameters<typeof startTcpProxy>[1]): ProxiedDeliveries {
  const h = { started: [], closers: [] } as unknown as ProxiedDeliveries;
  beforeAll(async () => {
    h.redis = redisClient();
    const { proxy, url } = await proxyTestRedis(proxyOpts);
    h.proxy = proxy;
    h.viaProxy = connectWorker(url, createLogger('silent'), prefix) as Redis;
  });
  afterAll(async () => {
    h.proxy.resume();
    for (const d of h.started) {
      await d.worker.close();
      await d.q.close();
    }
    for (const c of h.closers) await c();
    await h.proxy.close();
    h.viaProxy.disconnect();
    await cleanup(h.redis, prefix);
    await h.redis.quit();
  });
  return h;
}
