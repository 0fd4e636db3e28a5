import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { LevelChange } from '../types.js';
import type { RouteModule } from '../api/server.js';
import { KeyRing } from '../ssf/key-ring.js';
import { createSetQueue, enqueueLevelChange, type SetQueue } from '../ssf/queue.js';
import { startDeliveryWorker, type DeliveryWorker } from '../ssf/delivery-worker.js';
import type { ReceiverRegistry } from '../ssf/receivers.js';
import { wellKnownRoutes } from '../api/routes/well-known.js';

/** The SET side of a process: signing keys, the delivery queue and (in the worker) its consumer. */
export interface SsfRuntime {
  keyRing: KeyRing;
  setQueue: SetQueue;
  registry: ReceiverRegistry;
  /** Queues one SET per receiver for each change (idempotent). */
  enqueueChanges(changes: LevelChange[]): Promise<void>;
  jwks(): Promise<{ keys: unknown[] }>;
  queueCounts(): Promise<Record<string, number>>;
  routes: RouteModule[];
  service: unknown;
  /** Re-reads keys and receivers after a config reload. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link buildSsf}. */
export interface SsfDeps {
  config: () => Config;
  redis: Redis;
  keys: Keys;
  audit: AuditLog;
  logger: Logger;
  metrics?: Metrics;
  /** Run the delivery worker in this process (false for one-shot CLI commands). */
  deliver?: boolean;
}

/** Builds the SET side: key ring from config, queue, receiver registry, delivery worker. */
export async function buildSsf(deps: SsfDeps): Promise<SsfRuntime> {
  let keyRing = await KeyRing.fromConfig(deps.config());
  const setQueue = createSetQueue(deps.redis, deps.keys);
  const registry: ReceiverRegistry = { get: (name) => deps.config().receivers.find((r) => r.name === name) };
  let worker: DeliveryWorker | undefined;
  const start = (): void => {
    const cfg = deps.config();
    worker = startDeliveryWorker({
      connection: deps.redis,
      keys: deps.keys,
      registry,
      keyRing,
      issuer: cfg.raw.issuer,
      audit: deps.audit,
      delivery: cfg.raw.delivery,
      logger: deps.logger,
      onOutcome: (receiver, outcome) => deps.metrics?.deliveries.inc({ receiver, outcome }),
    });
  };
  if (deps.deliver !== false) start();
  const rt: SsfRuntime = {
    get keyRing() {
      return keyRing;
    },
    setQueue,
    registry,
    enqueueChanges: async (changes) => {
      const receivers = deps.config().receivers;
      for (const c of changes) await enqueueLevelChange(setQueue, c, receivers);
    },
    jwks: async () => keyRing.jwks() as { keys: unknown[] },
    queueCounts: async () => setQueue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
    routes: [wellKnownRoutes],
    service: undefined,
    reload: async () => {
      const next = await KeyRing.fromConfig(deps.config());
      for (const k of keyRing.jwks().keys) if (!next.jwks().keys.some((n) => n.kid === k.kid)) next.addRetired(k, Date.now() + 7 * 86_400_000);
      keyRing = next;
      if (worker) {
        await worker.close();
        start();
      }
    },
    close: async () => {
      await worker?.close();
      await setQueue.close();
    },
  };
  rt.service = rt;
  return rt;
}
