/**
 * The router in its own thread (`engine.router_thread`): a worker_threads entry that loads the
 * worker's config, opens its own Redis connections and runs the router loop while the main
 * thread — which holds the leases — says it holds the router lease. Routing (read, decode,
 * enrich, partition writes, acks) then runs beside the owners' apply and commit on another core.
 * Messages in: start (token), stop, reload (path), shutdown. Messages out: report (a routing step's
 * RouteReport), error (a failed step).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import { Keys } from '../keys.js';
import { createLogger } from '../obs/logger.js';
import { Metrics } from '../obs/metrics.js';
import { decodeEntry } from '../ingest/decode.js';
import { Router } from '../engine/router.js';
import { runRouterLoop } from '../engine/router-loop.js';
import { createSessionStore } from '../sessions/service.js';
import { sessionUseEnricher } from '../sessions/captured.js';
import { closeConnection, connect, ready, targetOf } from './connections.js';
import { buildRouteIngest } from './ingest-runtime.js';
import { decodeOptionsOf, routerOptionsOf } from './router-options.js';
import type { RouterThreadIn, RouterThreadOut } from './router-host.js';

const port = parentPort;
if (!port) throw new RiskstreamError('INTERNAL', 'router-thread.ts runs as a worker thread');
const { configPath } = workerData as { configPath: string };
const post = (m: RouterThreadOut): void => port.postMessage(m);
let config = loadConfig(configPath);
const logger = createLogger(config.raw.log_level).child({ thread: 'router' });
const keys = new Keys(config.prefix, config.raw.engine.partitions);
const redis = connect(targetOf(config), logger, 'router');
const waker = connect(targetOf(config), logger, 'router-waker');
await Promise.all([ready(redis), ready(waker)]);
// Counters of this thread's registry are not served; the main thread counts from the reports.
const ingest = await buildRouteIngest({ config: () => config, redis, logger, metrics: new Metrics() });
const sessionUses = sessionUseEnricher(
  createSessionStore(redis, keys, () => config.raw.sessions),
  () => ({
    sessionsEnabled: config.raw.sessions.enabled,
    behaviors: config.behaviors,
  }),
);
const decodeOpts = decodeOptionsOf(config);
const router = new Router(redis, keys, routerOptionsOf(config), {
  decode: (raw, now) => decodeEntry(raw, decodeOpts, now),
  enrich: async (events) => {
    await ingest.enrich(events);
    await sessionUses(events); // as in the main thread (src/runtime/sessions.ts)
  },
  deadLetter: async (bad) => {
    await ingest.deadLetter(bad);
    const streams: Record<string, number> = {};
    for (const b of bad) streams[b.raw.stream] = (streams[b.raw.stream] ?? 0) + 1;
    post({ type: 'deadLettered', streams });
  },
});
await router.ensureGroups();
let stopping = false;
port.on('message', (m: RouterThreadIn) => {
  if (m.type === 'start') router.start(m.token);
  else if (m.type === 'stop') router.stop();
  else if (m.type === 'shutdown') stopping = true;
  else if (m.type === 'reload') {
    try {
      config = loadConfig(m.path);
      Object.assign(decodeOpts, decodeOptionsOf(config));
    } catch (err) {
      logger.error({ err }, 'router thread: configuration not reloaded; the previous one stays');
    }
  }
});
post({ type: 'ready' });
await runRouterLoop({
  router,
  redis,
  waker,
  keys,
  logger,
  settings: () => ({ blockMs: config.raw.streams.block, maxRouted: config.raw.engine.max_routed }),
  stopping: () => stopping,
  onReport: (report) => post({ type: 'report', report }),
  onError: (err) => {
    logger.error({ err }, 'routing failed; retrying');
    post({ type: 'error' });
  },
});
await Promise.all([closeConnection(redis), closeConnection(waker)]);
port.close();
