/**
 * Latency against offered rate: the latency bench (bench/latency.ts) at each rate in turn, then
 * one table — p50/p99 XADD → SET job enqueued, and the CPU per event of the worker and of Redis
 * — and the highest rate whose p99 met the target. Where a 2-core machine saturates, this shows
 * the knee instead of one point beyond it.
 *
 *   npm run bench -- --sweep 1000,2000,3000,4000,5000
 */
import { latency, type LatencyResult } from './latency.js';
import { withPrefix } from './lib.js';

/** Runs the latency bench at each rate (`seconds` measured after `warmup`), prints the table. */
export async function latencySweep(rates: number[], opts: { seconds: number; warmup: number; users: number; targetMs: number }): Promise<LatencyResult[]> {
  const out: LatencyResult[] = [];
  for (const rate of rates) {
    out.push(
      await withPrefix('lat', (prefix, redis) =>
        latency(redis, prefix, { rate, seconds: opts.seconds, warmup: opts.warmup, probesPerS: 20, users: opts.users }),
      ),
    );
  }
  console.log(`\n# latency sweep — XADD → SET job enqueued (ms); CPU µs per event`);
  console.log(
    `  ${'offered/s'.padStart(9)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'worker µs'.padStart(10)} ${'Redis µs'.padStart(9)}`,
  );
  for (const r of out) {
    const e = r.enqueued_ms;
    console.log(
      `  ${String(r.offered_per_s).padStart(9)} ${String(e.p50).padStart(7)} ${String(e.p95).padStart(7)} ${String(e.p99).padStart(7)} ${String(r.worker_cpu_us).padStart(10)} ${String(r.redis_cpu_us).padStart(9)}${r.missing ? `  (${r.missing} probes missing)` : ''}`,
    );
  }
  const met = out.filter((r) => !r.missing && r.enqueued_ms.p99 < opts.targetMs).map((r) => r.offered_per_s);
  const best = met.length ? Math.max(...met) : undefined;
  console.log(
    JSON.stringify({
      bench: 'latency_sweep',
      target_p99_ms: opts.targetMs,
      highest_rate_meeting_target: best ?? null,
      runs: out.map((r) => ({ rate: r.offered_per_s, ...r.enqueued_ms, worker_cpu_us: r.worker_cpu_us, redis_cpu_us: r.redis_cpu_us })),
    }),
  );
  console.log(`  highest offered rate with p99 < ${opts.targetMs} ms: ${best ?? 'none'}`);
  return out;
}
