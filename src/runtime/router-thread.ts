/**
 * The router in its own thread (`engine.router_thread`): a worker_threads entry that takes the
 * worker's running config (never the files: what a reload refused, or an edit not yet reloaded,
 * must not route), opens its own Redis connections and runs the router loop while the main
 * thread — which holds the leases — says it holds the router lease. Routing (read, decode,
 * enrich, partition writes, acks) then runs beside the owners' apply and commit on another core.
 * Messages in: start (token), stop, reload (the worker's new config), shutdown. Messages out:
 * report (a routing step's RouteReport), error (a failed step), deadLettered, coerced (counts for
 * the worker's metrics), fenced.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import { Keys } from '../keys.js';
import { createLogger } from '../obs/logger.js';
import { runRouterLoop } from '../engine/router-loop.js';
import { closeConnection, connect, ready, targetOf } from './connections.js';
import { decodeOptionsOf } from './router-options.js';
import { buildOwnRouter } from './router-build.js';
import { GC_CHANNEL, type RouterThreadIn, type RouterThreadOut } from './router-host.js';

const port = parentPort;
if (!port) throw new RiskstreamError('INTERNAL', 'router-thread.ts runs as a worker thread');
const { config: started, logLevel } = workerData as { config: Config; logLevel?: string };
const post = (m: RouterThreadOut): void => port.postMessage(m);
// The worker's own (a thread restarted after the files changed routes as the owners apply).
let config = started;
const logger = createLogger(logLevel ?? config.raw.log_level).child({ thread: 'router' });
const keys = new Keys(config.prefix, config.raw.engine.partitions);
const redis = connect(targetOf(config), logger, 'router');
const waker = connect(targetOf(config), logger, 'router-waker');
await Promise.all([ready(redis), ready(waker)]);
const { router, decodeOpts } = await buildOwnRouter({
  config: () => config,
  redis,
  keys,
  logger,
  onDeadLettered: (streams) => post({ type: 'deadLettered', streams }),
  onFenced: (epoch) => post({ type: 'fenced', epoch }),
});
// Events accepted with a value taken as absent: counted here, told with the next report.
let coerced: Record<string, number> | undefined;
decodeOpts.onCoerced = (reason) => void ((coerced ??= {})[reason] = (coerced[reason] ?? 0) + 1);
await router.ensureGroups();
let stopping = false;
port.on('message', (m: RouterThreadIn) => {
  if (m.type === 'start') router.start(m.token);
  else if (m.type === 'stop') router.stop();
  else if (m.type === 'shutdown') stopping = true;
  else if (m.type === 'reload') {
    // Validated by the worker, its start-only settings kept at their running values (loadForReload).
    config = m.config;
    Object.assign(decodeOpts, decodeOptionsOf(config));
  }
});
// Diagnostics (GC_CHANNEL): a full collection on request, only when the process exposes gc().
const gc = (globalThis as { gc?: () => void }).gc;
const diagnostics = gc ? new BroadcastChannel(GC_CHANNEL) : undefined;
if (diagnostics) {
  diagnostics.onmessage = (m: unknown) => {
    if ((m as MessageEvent).data !== 'gc') return;
    gc!();
    gc!();
    diagnostics.postMessage('gc-done');
  };
  diagnostics.unref();
}
post({ type: 'ready' });
await runRouterLoop({
  router,
  redis,
  waker,
  keys,
  logger,
  settings: () => ({ blockMs: config.raw.streams.block, maxRouted: config.raw.engine.max_routed }),
  stopping: () => stopping,
  onReport: (report) => {
    post({ type: 'report', report });
    if (coerced) post({ type: 'coerced', reasons: coerced });
    coerced = undefined;
  },
  onError: (err) => {
    logger.error({ err }, 'routing failed; retrying');
    post({ type: 'error' });
  },
});
await Promise.all([closeConnection(redis), closeConnection(waker)]);
diagnostics?.close();
port.close();
