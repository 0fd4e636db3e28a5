import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../config/load.js';
import { Keys } from '../keys.js';
import { AuditLog } from '../audit/audit-log.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { Metrics } from '../obs/metrics.js';
import { observeBatch } from '../obs/batch-metrics.js';
import { StreamSource } from '../ingest/stream-source.js';
import { decodeEntry, type DecodeOptions } from '../ingest/decode.js';
import { timeWindowOf } from '../ingest/time-window.js';
import { deliveryCounts } from '../ingest/poison.js';
import { ProgressClock } from '../ingest/backlog.js';
import { readinessCheck } from './readiness.js';
import { trimInputs } from '../ingest/trim.js';
import { RiskStore } from '../risk/store.js';
import { Scorer } from '../risk/scorer.js';
import { OutboxRelay } from '../risk/outbox-relay.js';
import { ExpirySweeper } from '../risk/sweeper.js';
import { RiskService } from '../risk/service.js';
import { UsersTable } from '../risk/users-table.js';
import { riskScoring, type BatchReport } from '../../pipelines/risk-scoring.js';
import { expirySweep } from '../../pipelines/expiry-sweep.js';
import { buildServer } from '../api/server.js';
import { TokenSet } from '../api/auth.js';
import { connect, ready } from './connections.js';
import { drainWorker } from './shutdown.js';
import { buildSsf, type SsfRuntime } from './ssf.js';
import { buildIngest, type IngestRuntime } from './ingest-runtime.js';
import { buildSessions, type SessionsRuntime } from './sessions.js';
import { workerRoutes } from './routes.js';
import { readGroups } from '../redis/stream-info.js';

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
  /** Consumer name in the group (default env RISKSTREAM_CONSUMER, else host-pid). */
  consumer?: string;
}

/** A running worker. */
export interface WorkerHandle {
  config(): Config;
  /** Base URL of the HTTP server. */
  url: string;
  metrics: Metrics;
  /** Resolves after each batch report (for tests and the demo). */
  onBatch(listener: (r: BatchReport) => void): void;
  /** Reloads configuration (behaviors, receivers, tokens) keeping all state. */
  reload(path?: string): Promise<void>;
  /**
   * Graceful stop: finish the batch in flight, drain deliveries, close — all within
   * `shutdown_timeout`. Past it, rejects with `SHUTDOWN_TIMEOUT` naming what was abandoned.
   */
  close(): Promise<void>;
}

/** Starts every pipeline, the delivery worker and the HTTP API. */
export async function startWorker(opts: WorkerOptions = {}): Promise<WorkerHandle> {
  let config = opts.config ?? loadConfig(opts.configPath ?? 'config');
  const logger = opts.logger ?? createLogger(config.raw.log_level);
  const keys = new Keys(config.prefix);
  const metrics = new Metrics();
  const redis = connect(config.redisUrl, logger, 'main');
  const reader = connect(config.redisUrl, logger, 'reader');
  await Promise.all([ready(redis), ready(reader)]);
  const audit = new AuditLog(redis, config.streams.audit, config.raw.streams.maxlen);
  const consumer = opts.consumer ?? process.env.RISKSTREAM_CONSUMER ?? `${hostname()}-${process.pid}`;

  const ssf: SsfRuntime = await buildSsf({ config: () => config, redis, keys, audit, logger, metrics });
  const ingest: IngestRuntime = await buildIngest({ config: () => config, redis, logger, metrics });
  const sessions: SessionsRuntime = buildSessions({ config: () => config, redis, keys, audit, logger, ssf });

  const store = new RiskStore(redis, keys, { lruSize: config.raw.state.lru_size, eventsMaxlen: config.raw.state.max_events_per_user });
  const relay = new OutboxRelay(
    redis,
    keys,
    config.streams.riskEvents,
    (changes, hits) => ssf.enqueueChanges(changes).then(() => sessions.respond(changes, hits)), // responses: before the outbox entries go
    config.raw.streams.maxlen,
    config.streams.audit,
  );
  const sweeper = new ExpirySweeper(redis, keys, store);
  const risk = new RiskService(redis, keys, store, relay, audit);
  const scorer = new Scorer(store, {
    behaviors: () => config.behaviors,
    limits: () => ({ maxLogins: config.raw.state.max_logins, maxAge: config.raw.state.login_max_age, allowedLateness: config.raw.state.allowed_lateness }),
  });
  const source = new StreamSource(reader, {
    streams: config.streams.inputs,
    group: config.streams.group,
    consumer,
    count: config.raw.streams.batch_size,
    blockMs: config.raw.streams.block,
    claimIdleMs: config.raw.streams.claim_idle,
  });
  await source.ensureGroups();
  await relay.recover();
  await relay.relayPending();

  let stopping = false;
  let groupJoined = true;
  const listeners: Array<(r: BatchReport) => void> = [];
  const decodeOpts: DecodeOptions = { mapping: config.raw.mapping, window: timeWindowOf(config.raw.ingest), scrubFields: config.raw.ingest.scrub_fields };
  const progress = new ProgressClock(Date.now());
  const pipeline$ = riskScoring({
    source,
    decode: (raw, now) => decodeEntry(raw, decodeOpts, now),
    guard: {
      deliveries: (refs) => deliveryCounts(reader, config.streams.group, refs),
      maxDeliveries: () => config.raw.ingest.max_deliveries,
      onPoison: (ref, code, deliveries) => {
        metrics.poisoned.inc({ stream: ref.stream, code });
        logger.warn({ stream: ref.stream, id: ref.id, code, deliveries }, 'entry failed too often: dead-lettered (processing_failed) and acked');
      },
    },
    enrich: (events) => (ingest.enrich?.(events) ?? Promise.resolve()).then(() => sessions.enrich(events)), // geo first: a use's country may come from its ip
    deadLetter: (bad) => ingest.deadLetter(bad),
    alsoCommit: [sessions.auditBatch],
    scorer,
    relay,
    stopping: () => stopping,
    onError: (err) => {
      metrics.pipelineErrors.inc();
      const msg = (err as Error).message ?? String(err);
      if (/NOGROUP/.test(msg)) {
        groupJoined = false;
        void source.ensureGroups().then(
          () => (groupJoined = true),
          () => undefined,
        );
      }
      logger.error({ err }, 'batch failed; will re-read it from the pending list');
    },
  });
  let pipelineDone!: () => void;
  const pipelineFinished = new Promise<void>((r) => (pipelineDone = r));
  const subs: Subscription[] = [];
  subs.push(
    pipeline$.subscribe({
      next: (r) => {
        progress.batch(r.read, r.acked, Date.now());
        observeBatch(metrics, logger, r);
        for (const l of listeners) l(r);
      },
      complete: () => pipelineDone(),
      error: (err: unknown) => {
        logger.fatal({ err }, 'risk pipeline stopped');
        pipelineDone();
      },
    }),
  );
  let lastTrim = 0;
  // Expiry sweep, outbox recovery and input trimming: periodic, one at a time (a stalled sweep skips ticks), stopped on close.
  subs.push(
    expirySweep({
      everyMs: config.raw.state.sweep_interval,
      sweep: async (now) => {
        const r = await sweeper.sweep(now);
        if (r.users.length) await relay.relay(r.users);
        for (const c of r.changes) metrics.riskChanges.inc({ level: c.current, initiator: c.initiatingEntity });
        await relay.relayPending();
        if (Date.now() - lastTrim > 60_000) {
          lastTrim = Date.now();
          await trimInputs(redis, config.streams.inputs, config.streams.group, config.raw.streams.input_retention);
        }
      },
      onError: (err) => logger.warn({ err }, 'sweep failed; retrying next interval'),
    }).subscribe(),
  );

  const tokens = new TokenSet(config.adminTokens, config.ingestTokens, config.ssfTokens, config.metricsTokens);
  const health = {
    metrics: async () => {
      await refreshGauges();
      return metrics.render();
    },
    readiness: readinessCheck({ redis, config: () => config, consumerGroup: () => groupJoined && !stopping, progress }),
  };
  const refreshGauges = async (): Promise<void> => {
    try {
      const groups = await readGroups(redis, config.streams.inputs);
      config.streams.inputs.forEach((s, i) => {
        for (const g of groups[i] ?? []) {
          if (g.name !== config.streams.group) continue;
          metrics.pending.set({ stream: s }, g.pending);
          if (g.lag !== null) metrics.consumerLag.set({ stream: s }, g.lag);
        }
      });
      const counts = await ssf.queueCounts();
      for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ state }, n);
    } catch {
      /* gauges are best effort */
    }
  };
  const users = new UsersTable(redis, keys, store);
  const routes = workerRoutes({ health, risk, users, audit, ssf, ingest: ingest.service, sessions: sessions.service });
  const app: FastifyInstance = await buildServer({ config: () => config, tokens, logger }, routes);
  const port = opts.port ?? config.raw.http.port;
  const host = opts.host ?? config.raw.http.host;
  const address = await app.listen({ port, host });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  logger.info({ url, consumer, streams: config.streams.inputs, receivers: config.receivers.map((r) => r.name) }, 'riskstream worker started');
  if (config.shippedBehaviors) logger.warn({ behaviors: config.files.at(-1) }, 'no behaviors.yaml beside the configuration: the shipped defaults apply');

  let closing: Promise<void> | undefined;
  return {
    config: () => config,
    url,
    metrics,
    onBatch: (l) => void listeners.push(l),
    reload: async (path) => {
      const next = loadConfig(path ?? opts.configPath ?? config.dir);
      config = next;
      tokens.set(next.adminTokens, next.ingestTokens, next.ssfTokens, next.metricsTokens);
      Object.assign(decodeOpts, { mapping: next.raw.mapping, window: timeWindowOf(next.raw.ingest), scrubFields: next.raw.ingest.scrub_fields });
      await ssf.reload();
      await audit.write({
        action: 'config.reloaded',
        actor: 'system',
        details: {
          files: next.files,
          behaviors: next.behaviors.map((b) => `${b.id}:${b.enabled ? b.risk_level : 'off'}`),
          receivers: next.receivers.map((r) => r.name),
        },
      });
      logger.info({ files: next.files }, 'configuration reloaded');
    },
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        await drainWorker({
          logger,
          deadlineMs: config.raw.shutdown_timeout,
          batchMs: config.raw.streams.block + 10_000,
          pipelineFinished,
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
