/**
 * The benchmarked worker process: `startWorker` with the config directory given as argv[2]
 * (identity `bench`, or RISKSTREAM_WORKER_ID when several run),
 * reporting each batch to the parent over IPC. Messages in: `memory` (every thread's GC first when
 * run with --expose-gc), `stop` (graceful close, then exit so --cpu-prof writes its profile).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { GC_CHANNEL } from '../src/runtime/router-host.js';
import { startWorker } from '../src/runtime/worker.js';

const send = (m: Record<string, unknown>): void => void process.send?.(m);

// Diagnostics: BENCH_HEAP_SAMPLE=<file> samples the main thread's allocations (those collected
// since included) from start to stop and writes V8's sampling heap profile there.
const heapFile = process.env.BENCH_HEAP_SAMPLE;
const inspector = heapFile ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_SAMPLE_YOUNG !== '0',
  });
}
const writeHeapProfile = async (): Promise<void> => {
  if (!inspector || !heapFile) return;
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  writeFileSync(heapFile, JSON.stringify(profile));
};

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

/**
 * With --expose-gc, the worker's threads (the router thread) collect their heaps too before a
 * memory sample (GC_CHANNEL), as the main thread does: the sample then measures what each thread
 * retains. Waits up to 2 s for their answer (none without a router thread).
 */
function threadsCollected(exposed: boolean): Promise<void> {
  if (!exposed) return Promise.resolve();
  const ch = new BroadcastChannel(GC_CHANNEL);
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      ch.close();
      resolve();
    };
    const timer = setTimeout(done, 2_000);
    ch.onmessage = (e: unknown) => {
      if ((e as MessageEvent).data === 'gc-done') done();
    };
    ch.postMessage('gc');
  });
}

process.on('message', (m: { t: string }) => {
  if (m.t === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    void threadsCollected(gc !== undefined).then(() => {
      gc?.();
      gc?.();
      const u = process.memoryUsage();
      send({ t: 'memory', rss: u.rss, heapUsed: u.heapUsed, external: u.external });
    });
  } else if (m.t === 'cpu') {
    const c = process.cpuUsage();
    send({ t: 'cpu', user: c.user, system: c.system });
  } else if (m.t === 'stop') {
    void writeHeapProfile()
      .then(() => worker.close())
      .finally(() => process.exit(0));
  }
});
process.on('disconnect', () => void worker.close().finally(() => process.exit(0)));
send({ t: 'ready', url: worker.url });
