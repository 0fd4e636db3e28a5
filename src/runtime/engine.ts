import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import { LeaseManager } from '../engine/leases.js';
import { partitionResource } from '../engine/lease-keys.js';
import { PartitionOwner, type OwnerParts, type StepReport } from '../engine/owner.js';
import { ROUTER_RESOURCE, Router, type RouterParts, type RouteReport } from '../engine/router.js';

/** The engine's loops, leases and reports. */
export interface EngineRuntime {
  workerId: string;
  owner: PartitionOwner;
  router: Router;
  leases: LeaseManager;
  /** Called after every routing step and every owner step. */
  onReport(listener: (r: { route?: RouteReport; step?: StepReport }) => void): void;
  /** Resolves when both loops have stopped (after `stop()`). */
  finished: Promise<void>;
  /** Stops reading; the owner commits what it applied; leases are released. */
  stop(): Promise<void>;
}

/** What the engine is built from. */
export interface EngineDeps {
  config: () => Config;
  redis: Redis;
  /** Blocking reads (owner). */
  reader: Redis;
  /** Blocking wake-up reads (router). */
  waker: Redis;
  keys: Keys;
  logger: Logger;
  metrics: Metrics;
  workerId: string;
  route: RouterParts;
  own: OwnerParts;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the partitioned engine of one worker: a lease manager balancing the router and the
 * partitions over the live workers, the router loop (while this worker holds the router lease)
 * and the owner loop (its partitions), plus the owner's expiry sweep.
 */
export async function startEngine(d: EngineDeps): Promise<EngineRuntime> {
  const cfg = d.config().raw;
  const router = new Router(
    d.redis,
    d.keys,
    { sources: d.config().streams.inputs, group: d.config().streams.group, consumer: 'riskstream-router', count: cfg.streams.batch_size },
    d.route,
  );
  await router.ensureGroups();
  const owner = new PartitionOwner(
    d.redis,
    d.reader,
    d.keys,
    { lruSize: cfg.state.lru_size, readCount: cfg.engine.read_count, commitInterval: cfg.engine.commit_interval, commitEntries: cfg.engine.commit_entries },
    d.own,
  );
  const partitions = Array.from({ length: d.keys.partitions }, (_, i) => partitionResource(i));
  const gauge = (): void => {
    d.metrics.partitionsOwned.set(owner.partitions().length);
    d.metrics.routerOwned.set(router.active ? 1 : 0);
  };
  const leases = new LeaseManager(d.redis, d.keys.prefix, {
    workerId: d.workerId,
    resources: () => [ROUTER_RESOURCE, ...partitions],
    ttlMs: cfg.engine.lease_ttl,
    heartbeatMs: cfg.engine.heartbeat,
    logger: d.logger,
    onAcquired: (l) => {
      if (l.resource === ROUTER_RESOURCE) router.start(l.token);
      else owner.acquire(Number(l.resource.slice(1)), l.token);
      gauge();
    },
    onRevoke: async (r) => {
      if (r === ROUTER_RESOURCE) router.stop();
      else await owner.release(Number(r.slice(1)));
      await leases.release(r);
      gauge();
    },
    onLost: (r) => {
      d.logger.warn({ resource: r }, 'lease lost: stopped touching it');
      if (r === ROUTER_RESOURCE) router.stop();
      else owner.lose(Number(r.slice(1)));
      gauge();
    },
  });
  const listeners: Array<(r: { route?: RouteReport; step?: StepReport }) => void> = [];
  let stopping = false;

  const routerLoop = async (): Promise<void> => {
    let errors = 0;
    while (!stopping) {
      if (!router.active) {
        await sleep(50);
        continue;
      }
      try {
        const r = await router.step();
        errors = 0;
        if (r === 'fenced') continue;
        d.metrics.routed.inc(r.routed);
        for (const l of listeners) l({ route: r });
        if (r.buffered) await sleep(1);
        else if (r.read === 0) await router.waitForInput(d.waker, Math.min(cfg.streams.block, 250));
      } catch (err) {
        d.metrics.pipelineErrors.inc();
        d.logger.error({ err }, 'routing failed; retrying');
        await sleep(Math.min(100 * 2 ** errors++, 5000));
      }
    }
  };
  const ownerLoop = async (): Promise<void> => {
    let errors = 0;
    let lastSweep = 0;
    while (!stopping) {
      try {
        const now = Date.now();
        if (now - lastSweep >= d.config().raw.state.sweep_interval) {
          lastSweep = now;
          await owner.sweep(now);
        }
        const r = await owner.step(Math.min(cfg.streams.block, d.config().raw.state.sweep_interval, 250));
        errors = 0;
        if (r.committed) d.metrics.commits.inc(r.committed);
        for (const l of listeners) l({ step: r });
      } catch (err) {
        d.metrics.pipelineErrors.inc();
        d.logger.error({ err }, 'partition step failed; re-reading from the committed position');
        owner.rewindAll();
        await sleep(Math.min(100 * 2 ** errors++, 5000));
      }
    }
    await owner.commit();
    await owner.settle();
  };

  await leases.start();
  gauge();
  const finished = Promise.all([routerLoop(), ownerLoop()]).then(() => undefined);
  return {
    workerId: d.workerId,
    owner,
    router,
    leases,
    onReport: (l) => void listeners.push(l),
    finished,
    stop: async () => {
      stopping = true;
      await finished;
      await leases.stop();
      gauge();
    },
  };
}
