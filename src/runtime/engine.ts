/**
 * Starts one worker's partitioned engine: its leases, the router (here or in its thread) and the
 * partition owner's loop.
 */
import type { Config } from '../config/load.js';
import { LeaseManager } from '../engine/leases.js';
import type { OfflineResetSettings } from '../engine/offline-reset.js';
import { partitionResource } from '../engine/lease-keys.js';
import { RoutedHandoff } from '../engine/handoff.js';
import { PartitionOwner, type StepReport } from '../engine/owner.js';
import { ROUTER_RESOURCE, Router, type RouteReport } from '../engine/router.js';
import { runRouterLoop } from '../engine/router-loop.js';
import { routedUntil } from '../engine/routed-until.js';
import { RouterHost } from './router-host.js';
import { routerOptionsOf } from './router-options.js';
import type { EngineDeps, EngineRuntime, RouterControl, StopBound } from './engine-types.js';
import { releaseAfterLoops } from './engine-stop.js';
import { renewIdentityEvery } from './identity-renewal.js';
import { retentionOf } from './apply-context.js';
import type { Retention } from '../risk/retention.js';

const retentionPart = (retention: Retention | undefined): { retention?: Retention } => (retention ? { retention } : {});

/** Where a commit writes risk events and audit entries, and how long those streams get (config). */
export function commitSettingsOf(config: Config): OfflineResetSettings {
  return {
    eventsMaxlen: config.raw.state.max_events_per_user,
    input: { streams: config.streams.inputs, group: config.streams.group },
    leaseTtlMs: config.raw.engine.lease_ttl,
    ...retentionPart(retentionOf(config)),
  };
}

/** A partition step applying fewer items than this commits at once (keeping up: latency first). */
const SMALL_STEP = 500;

/** A loop step longer than this is logged (warn). */
const SLOW_STEP_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the partitioned engine of one worker: a lease manager balancing the router and the
 * partitions over the live workers, the router loop (while this worker holds the router lease)
 * and the owner loop (its partitions), plus the owner's expiry sweep.
 */
export async function startEngine(d: EngineDeps): Promise<EngineRuntime> {
  const cfg = d.config().raw;
  // engine.router_thread: routing runs in its own thread (router-thread.ts), this one owns partitions.
  const threaded = cfg.engine.router_thread && d.configPath !== undefined;
  const reportRoute = (r: RouteReport): void => {
    d.metrics.routed.inc(r.routed);
    d.metrics.routedPresent.inc(r.present);
    if (r.derivedDropped) {
      d.metrics.derivedDropped.inc(r.derivedDropped);
      d.logger.warn({ dropped: r.derivedDropped }, 'events derived at the edge not routed: one input entry derived more than 15 in one partition');
    }
    for (const l of listeners) l({ route: r });
  };
  const routingFailed = (): void => d.metrics.pipelineErrors.inc();
  // A fence newer than the router's lease (see RouterParts.onFenced): the lease is taken again above it.
  const routerFenced = (epoch: number): void =>
    void leases.raise(ROUTER_RESOURCE, epoch).catch((err: unknown) => {
      // Given back: the next heartbeat takes it again, and the fence refuses it again (retried).
      d.logger.warn({ err }, 'router lease could not be taken again above its fence: released');
      routing.stop();
      return leases.release(ROUTER_RESOURCE).then(gauge, () => undefined);
    });
  const host = threaded
    ? new RouterHost(
        d.logger,
        {
          onReport: reportRoute,
          onError: routingFailed,
          onDeadLettered: (stream, n) => d.metrics.deadLettered.inc({ stream }, n),
          onCoerced: (reason, n) => d.onCoerced?.(reason, n),
          onFenced: routerFenced,
        },
        // The running configuration itself (structured-cloneable), never the files again.
        d.config,
      )
    : null;
  // In this thread, the router's partition entries go to this process's owner in memory too (it skips decoding them).
  const handoff = host ? null : new RoutedHandoff();
  const router = !handoff
    ? null
    : new Router(d.redis, d.keys, routerOptionsOf(d.config()), {
        ...d.route,
        onFenced: routerFenced,
        handoff: {
          put: (p, id, items, bytes) => void (owner.owns(p) && handoff.put(p, id, items, bytes)),
          take: (p, id) => handoff.take(p, id),
        },
      });
  if (host) await host.ready;
  else await router!.ensureGroups();
  const routing: RouterControl = host ?? router!;
  const owner = new PartitionOwner(
    d.redis,
    d.reader,
    d.keys,
    {
      lruSize: cfg.state.lru_size,
      readCount: cfg.engine.read_count,
      commitInterval: cfg.engine.commit_interval,
      commitEntries: cfg.engine.commit_entries,
      smallStep: SMALL_STEP,
      leaseTtl: cfg.engine.lease_ttl,
      heartbeat: cfg.engine.heartbeat,
    },
    {
      ...d.own,
      onForgotten: (n) => d.metrics.usersForgotten.inc(n),
      onIdleBackfilled: (partition, { scanned, candidates }) =>
        d.logger.info({ partition, scanned, candidates }, 'idle index backfill: partition pass complete'),
      ...(handoff ? { handoff } : {}),
    },
  );
  const partitions = Array.from({ length: d.keys.partitions }, (_, i) => partitionResource(i));
  const gauge = (): void => {
    d.metrics.partitionsOwned.set(owner.partitions().length);
    d.metrics.routerOwned.set(routing.active ? 1 : 0);
  };
  const leases = new LeaseManager(d.redis, d.keys.prefix, {
    workerId: d.workerId,
    resources: () => [ROUTER_RESOURCE, ...partitions],
    ttlMs: cfg.engine.lease_ttl,
    heartbeatMs: cfg.engine.heartbeat,
    logger: d.logger,
    onAcquired: (l) => {
      if (l.resource === ROUTER_RESOURCE) routing.start(l.token);
      else owner.acquire(Number(l.resource.slice(1)), l.token);
      gauge();
    },
    onRevoke: async (r) => {
      if (r === ROUTER_RESOURCE) routing.stop();
      else await owner.release(Number(r.slice(1)));
      await leases.release(r);
      gauge();
    },
    onLost: (r) => {
      // One warning per burst of losses comes from the leases (src/engine/loss-log.ts).
      d.logger.debug({ resource: r }, 'lease lost: stopped touching it');
      if (r === ROUTER_RESOURCE) routing.stop();
      else owner.lose(Number(r.slice(1)));
      gauge();
    },
  });
  /** Logs a loop step that took long (a stall shows in latency before anything else). */
  const slow = (what: string, t0: number, fields: Record<string, unknown>): void => {
    const ms = performance.now() - t0;
    if (ms > SLOW_STEP_MS) d.logger.warn({ ms: Math.round(ms), ...fields }, `slow ${what}`);
  };
  const listeners: Array<(r: { route?: RouteReport; step?: StepReport }) => void> = [];
  let stopping = false;
  let stopped!: () => void;
  const whenStopping = new Promise<void>((r) => (stopped = r));

  const ownerLoop = async (): Promise<void> => {
    let errors = 0;
    let lastSweep = 0;
    while (!stopping) {
      try {
        const now = Date.now();
        if (now - lastSweep >= d.config().raw.state.sweep_interval) {
          lastSweep = now;
          const t0 = performance.now();
          const routed = await routedUntil(d.redis, [...d.config().streams.inputs, d.keys.controlStream], d.config().streams.group, now);
          const { expired, forgotten, fixed } = await owner.sweep(Math.min(now, routed));
          slow('expiry sweep', t0, { expired, forgotten, fixed });
        }
        const t0 = performance.now();
        const block = Math.min(cfg.streams.block, d.config().raw.state.sweep_interval, 250);
        const r = await owner.step(block);
        slow('partition step', t0 + (r.read === 0 ? block : 0), { read: r.read, applied: r.applied, committed: r.committed });
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
    await owner.handOver();
  };

  await leases.start();
  gauge();
  // The identity's claim lives as long as the leases (src/runtime/identity-renewal.ts).
  let halted: string | undefined;
  const renew = renewIdentityEvery(cfg.engine.heartbeat, {
    workerId: d.workerId,
    logger: d.logger,
    renewIdentity: () => d.renewIdentity(),
    superseded: () => leases.superseded,
    stopping: () => stopping,
    halt: (reason) => {
      halted = reason;
      stopping = true;
    },
  });
  const routerLoop = router
    ? runRouterLoop({
        router,
        redis: d.redis,
        waker: d.waker,
        keys: d.keys,
        logger: d.logger,
        settings: () => ({ blockMs: cfg.streams.block, maxRouted: d.config().raw.engine.max_routed }),
        stopping: () => stopping,
        onReport: reportRoute,
        onError: (err) => {
          routingFailed();
          d.logger.error({ err }, 'routing failed; retrying');
        },
      })
    : whenStopping.then(() => host!.close());
  const finished = Promise.all([routerLoop, ownerLoop()]).then(() => undefined);
  const stop = async (bound?: StopBound): Promise<void> => {
    stopping = true;
    stopped();
    clearInterval(renew);
    try {
      await releaseAfterLoops(finished, leases, d.logger, bound);
    } finally {
      gauge();
    }
  };
  return {
    workerId: d.workerId,
    owner,
    router: routing,
    leases,
    reload: () => host?.reload(),
    onReport: (l) => void listeners.push(l),
    halted: () => halted,
    halt: (reason) => {
      halted ??= reason;
      void stop().catch((err: unknown) => d.logger.warn({ err }, 'engine stop after a halt failed'));
    },
    finished,
    stop,
  };
}
