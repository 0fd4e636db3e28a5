/**
 * The benchmarked worker process: `startWorker` with the config directory given as argv[2]
 * (identity `bench`, or RISKSTREAM_WORKER_ID when several run),
 * reporting each batch to the parent over IPC. Messages in: `memory` (GC first when run with
 * --expose-gc), `stop` (graceful close, then exit so --cpu-prof writes its profile).
 */
import { startWorker } from '../src/runtime/worker.js';

const send = (m: Record<string, unknown>): void => void process.send?.(m);

const worker = await startWorker({ configPath: process.argv[2]!, port: 0, consumer: process.env.RISKSTREAM_WORKER_ID ?? 'bench' });
worker.onBatch((r) => {
  if (r.read === 0) return;
  send({
    t: 'batch',
    at: Date.now(),
    hr: Number(process.hrtime.bigint() / 1000n),
    read: r.read,
    applied: r.applied,
    hits: r.hits.length,
    changes: r.changes.length,
    ms: r.ms,
  });
});

process.on('message', (m: { t: string }) => {
  if (m.t === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const u = process.memoryUsage();
    send({ t: 'memory', rss: u.rss, heapUsed: u.heapUsed, external: u.external });
  } else if (m.t === 'cpu') {
    const c = process.cpuUsage();
    send({ t: 'cpu', user: c.user, system: c.system });
  } else if (m.t === 'stop') {
    void worker.close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => void worker.close().finally(() => process.exit(0)));
send({ t: 'ready', url: worker.url });
