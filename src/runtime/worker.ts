import { assertPortFree } from '../net/port-probe.js';
import type { Subscription } from 'rxjs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../config/load.js';
import { Keys } from '../keys.js';
import { AuditLog } from '../audit/audit-log.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { Metrics } from '../obs/metrics.js';
import { decodeEntry, type DecodeOptions } from '../ingest/decode.js';
import { decodeOptionsOf } from './router-options.js';
import { startStallWatch } from './stall-watch.js';
import { groupState, PING_TIMEOUT_MS, pingProblem } from './readiness.js';
import { buildServer } from '../api/server.js';
import { TokenSet } from '../api/auth.js';
import { closeConnection, connect, ready, refuseClusterNode, targetOf } from './connections.js';
import { drainWorker } from './shutdown.js';
import { ownerContext } from './apply-context.js';
import { buildSsf, type SsfRuntime } from './ssf.js';
import { buildIngest, type IngestRuntime } from './ingest-runtime.js';
import { buildSessions, type SessionsRuntime } from './sessions.js';
import { buildRisk } from './risk-runtime.js';
import { workerHealth } from './worker-health.js';
import { workerRoutes } from './routes.js';
import { reportBatches, type BatchReport } from './batch-report.js';
import { workerReloads } from './worker-reload.js';
import { recordTurned } from './behaviors-turned.js';
import { behaviorEpochs } from '../engine/behavior-epochs.js';
import { commitSettingsOf, startEngine } from './engine.js';
import { claimWorkerId } from '../engine/worker-id.js';
import { claimPartitionCount } from '../engine/partition-count.js';
import { revokeMarkOrNone } from '../engine/control.js';
import { stopBounds } from './engine-stop.js';
import { ownerHooks } from './owner-hooks.js';
import { startUpkeep } from './worker-upkeep.js';
import { restoreSharedRecords } from './shared-records.js';
import { guardStart, type StartWatch } from './start-guard.js';
import { ConfigState } from './config-state.js';

export type { BatchReport } from './batch-report.js';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Config directory or file (ignored when `config` is given). */
  configPath?: string;
  config?: Config;
  logger?: Logger;
  /** Overrides `http.port` (0 = any free port). */
  port?: number;
  /** Overrides `http.host`. */
  host?: string;
  /** Worker identity (its leases' owner): default env RISKSTREAM_WORKER_ID or RISKSTREAM_CONSUMER, else `<host>-<n>` claimed in Redis. */
  consumer?: string;
}

/** A running worker. */
export interface WorkerHandle {
  config(): Config;
  /** Base URL of the HTTP server. */
  url: string;
  metrics: Metrics;
  /** Called after each owner step (for tests, the demo and the bench). */
  onBatch(listener: (r: BatchReport) => void): void;
  /** This worker's identity (the owner named in its leases). */
  workerId: string;
  /** Reloads configuration (behaviors, receivers, tokens) keeping all state. */
  reload(path?: string): Promise<void>;
  /** Graceful stop within `shutdown_timeout` (batch in flight, deliveries, close); past it, rejects with `SHUTDOWN_TIMEOUT`. */
  close(): Promise<void>;
}

/** Starts every pipeline, the delivery worker and the HTTP API (failing when Redis stops answering meanwhile). */
export function startWorker(opts: WorkerOptions = {}): Promise<WorkerHandle> {
  return guardStart((watch) => start(opts, watch));
}

async function start(opts: WorkerOptions, watch: StartWatch): Promise<WorkerHandle> {
  let config = opts.config ?? loadConfig(opts.configPath ?? 'config');
  const logger = opts.logger ?? createLogger(config.raw.log_level);
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  const metrics = new Metrics();
  const port = opts.port ?? config.raw.http.port;
  const host = opts.host ?? config.raw.http.host;
  await assertPortFree(port, host); // before the worker id and partitions are claimed (a duplicate takes nothing)
  const redis = connect(targetOf(config), logger, 'main');
  const reader = connect(targetOf(config), logger, 'reader');
  const waker = connect(targetOf(config), logger, 'waker');
  await Promise.all([ready(redis), ready(reader), ready(waker)]);
  watch.connected(redis, [redis, reader, waker]);
  await refuseClusterNode(redis).catch((err: unknown) => {
    for (const c of [redis, reader, waker]) c.disconnect();
    throw err;
  });
  await claimPartitionCount(redis, keys); // before anything is routed, applied or read with this count
  await recordTurned(redis, keys, config.behaviors); // off from the start: a behavior starts afresh when on again
  const audit = new AuditLog(redis, config.streams.audit, config.raw.streams.maxlen);
  const explicit = opts.consumer ?? process.env.RISKSTREAM_WORKER_ID ?? process.env.RISKSTREAM_CONSUMER;
  const identity = await claimWorkerId(redis, config.prefix, { ...(explicit ? { explicit } : {}), ttlMs: config.raw.engine.lease_ttl });

  const ssf: SsfRuntime = await buildSsf({ config: () => config, redis, keys, audit, logger, metrics, workerId: identity.id });
  const ingest: IngestRuntime = await buildIngest({ config: () => config, redis, logger, metrics });
  const sessions: SessionsRuntime = buildSessions({ config: () => config, redis, keys, audit, logger, ssf });

  const { relay, risk, users } = await buildRisk({ config: () => config, redis, keys, ssf, sessions, logger });

  let stopping = false;
  const configState = new ConfigState(Date.now());
  const listeners: Array<(r: BatchReport) => void> = [];
  const decodeOpts: DecodeOptions = { ...decodeOptionsOf(config), onCoerced: (reason) => ingest.coerced(reason) };
  const epochs = behaviorEpochs(redis, keys, {
    onError: (err) => logger.warn({ err }, "reading the behaviors' on-epochs failed (read again at the next refresh)"),
  });
  const engine = await startEngine({
    config: () => config,
    redis,
    reader,
    waker,
    keys,
    logger,
    metrics,
    workerId: identity.id,
    // Given a path (the CLI gives both), routing may run in its thread (handed the running configuration).
    ...(opts.configPath !== undefined || !opts.config ? { configPath: opts.configPath ?? 'config' } : {}),
    renewIdentity: () => identity.renew(),
    onCoerced: ingest.coerced,
    route: {
      decode: (raw, now) => decodeEntry(raw, decodeOpts, now),
      enrich: (events) => (ingest.enrich?.(events) ?? Promise.resolve()).then(() => sessions.enrich(events)), // geo first: a use's country may come from its ip
      deadLetter: async (bad) => void (await ingest.deadLetter(bad)),
    },
    own: {
      // The behaviors' on-epochs: read once per configuration, then in the background (never per event).
      context: ownerContext(() => config, epochs),
      settings: () => ({ ...commitSettingsOf(config), now: Date.now() }),
      sessions: sessions.engine,
      ...ownerHooks({ ingest, metrics, logger }),
      committed: (changes) => ssf.enqueueCommitted(changes),
      relay: (users) => void relay.relay(users).catch((err: unknown) => logger.warn({ err }, 'relay failed; the outbox is relayed again by the sweep')),
    },
  });
  reportBatches(engine, { metrics, logger, listeners });
  // Shared records lost with Redis's data, outbox recovery and input trimming: periodic, one at a time (a stalled run skips ticks), stopped on close.
  const restore = (): Promise<void> =>
    restoreSharedRecords({
      redis,
      keys,
      config: () => config,
      workerId: identity.id,
      owners: () => ssf.ownersOn(),
      epochs: () => epochs.known(),
      engine,
      logger,
    });
  // The pipeline as a whole (read from Redis: the same on every worker), for /readyz and the stall gauges.
  const stalls = startStallWatch({ config: () => config, redis, keys, metrics, logger });
  const subs: Subscription[] = [
    stalls.subscription,
    startUpkeep({ config: () => config, redis, keys, relay, sessions, owns: (p) => engine.owner.owns(p), restore, logger }),
  ];

  const tokens = new TokenSet(config.adminTokens, config.ingestTokens, config.ssfTokens, config.metricsTokens);
  const health = workerHealth({
    config: () => config,
    redis,
    metrics,
    ssf,
    consumerGroup: () => groupState(stopping, engine.halted()),
    configProblem: () => configState.reason(),
    stall: () => stalls.verdict(),
  });
  const markRevoked = (req: { user: string; actor: string; reason: string }): Promise<number | undefined> => revokeMarkOrNone(redis, keys, req);
  const routes = workerRoutes({ health, risk, users, audit, ssf, ingest: ingest.service, sessions: sessions.service, markRevoked });
  const redisUp = (): boolean => redis.status === 'ready';
  const redisProblem = (): Promise<string | undefined> => pingProblem(redis, PING_TIMEOUT_MS);
  const app: FastifyInstance = await buildServer({ config: () => config, tokens, logger, metrics, redisUp, redisProblem }, routes);
  let address: string;
  try {
    address = await app.listen({ port, host });
  } catch (err) {
    // The port taken, say: the partitions taken go back at once (a supervisor's restart loop would stall them for good).
    for (const s of subs) s.unsubscribe();
    await engine.stop().catch(() => undefined);
    await identity.release().catch(() => undefined);
    // And nothing else left running for a caller that goes on (a test, an embedding program).
    await Promise.allSettled([ingest.close(), ssf.close(), app.close()]);
    await Promise.allSettled([closeConnection(redis), closeConnection(reader), closeConnection(waker)]);
    throw err;
  }
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  logger.info({ url, worker: identity.id, streams: config.streams.inputs, receivers: config.receivers.map((r) => r.name) }, 'riskstream worker started');
  if (config.shippedBehaviors) logger.warn({ behaviors: config.files.at(-1) }, 'no behaviors.yaml beside the configuration: the shipped defaults apply');

  const reloads = workerReloads({
    running: () => config,
    pathOf: (path) => path ?? opts.configPath ?? config.dir,
    apply: (next) => {
      config = next;
      engine.reload();
      tokens.set(next.adminTokens, next.ingestTokens, next.ssfTokens, next.metricsTokens);
      Object.assign(decodeOpts, decodeOptionsOf(next));
    },
    record: (next, prev) => recordTurned(redis, keys, next.behaviors, prev.behaviors, epochs.known()),
    ssf,
    stopping: () => stopping,
    state: configState,
    audit,
    metrics,
    logger,
    workerId: identity.id,
  });

  let closing: Promise<void> | undefined;
  return {
    config: () => config,
    url,
    metrics,
    onBatch: (l) => void listeners.push(l),
    workerId: identity.id,
    reload: (path) => reloads.reload(path),
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        // The last commit's bound; past it the leases are released on a new connection (fenced), within releaseMs.
        const { commitMs, releaseMs } = stopBounds(config.raw.shutdown_timeout, config.raw.streams.block);
        await drainWorker({
          logger,
          deadlineMs: config.raw.shutdown_timeout,
          batchMs: commitMs + releaseMs,
          pipelineFinished: (async () => {
            // A last commit that overruns its bound: the claimed id goes with the leases, on their new connection.
            await engine.stop({ commitMs, releaseMs, connection: () => redis.duplicate(), alsoRelease: (via) => identity.release(via) });
            await identity.release().catch(() => undefined);
            await closeConnection(waker);
          })(),
          reloadFinished: reloads.settled(),
          listBridge: Object.keys(config.raw.bridge.lists).length > 0,
          subs,
          ingest,
          ssf,
          app,
          redis,
          reader,
        });
      })()),
  };
}
