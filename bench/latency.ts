/**
 * Latency at a fixed offered rate: background telemetry (the same mix, 10 k users) is XADDed at
 * `rate` events/s in 10 ms ticks while probes — fresh users whose login from London is followed
 * by one from Sydney (event times 2 h apart: impossible travel) — are injected at `probes`/s.
 * For each probe's second login: XADD (its entry id, Redis clock) → the `added` event of its
 * SET job in BullMQ's event stream (Redis clock), and → its SET received by a local receiver.
 */
import type { Redis } from 'ioredis';
import { levelChangeJobId } from '../src/ssf/queue.js';
import { CITIES, generate, loginEvent, prng } from './data.js';
import { encodeXadds, RawWriter } from './raw-writer.js';
import { CountingReceiver, WorkerChild, percentile, redisClient, redisCpu, report, round, sleep, streamsOf, workerFlags, writeBenchConfig } from './lib.js';

export interface LatencyResult {
  bench: 'latency';
  offered_per_s: number;
  achieved_per_s: number;
  seconds: number;
  probes: number;
  enqueued_ms: { p50: number; p95: number; p99: number; max: number };
  received_ms: { p50: number; p95: number; p99: number; max: number };
  missing: number;
  mean_batch: number;
  /** CPU µs per event offered after the warm-up: the worker process (both threads), Redis. */
  worker_cpu_us: number;
  redis_cpu_us: number;
}

const idMs = (id: string): number => Number(id.slice(0, id.indexOf('-')));

export async function latency(
  redis: Redis,
  prefix: string,
  opts: { rate: number; seconds: number; warmup: number; probesPerS: number; users: number },
): Promise<LatencyResult> {
  const s = streamsOf(prefix);
  const receiver = new CountingReceiver(false);
  await receiver.listen();
  const cfg = await writeBenchConfig(prefix, {
    receivers: [{ name: 'bench', kind: 'ssf', endpoint: `${receiver.url}/lat`, audience: 'https://receiver.bench', events: ['risk-level-change'] }],
  });
  const w = await WorkerChild.start(cfg.dir, { execArgv: workerFlags() });
  const total = opts.warmup + opts.seconds;
  const background = generate({ events: Math.ceil(opts.rate * (total + 2)), users: opts.users, seed: 23 });
  // Background load: encoded before the run, written raw (bench/raw-writer.ts); probes go through ioredis (their ids are read).
  const load = encodeXadds(background.map((e) => ({ stream: e.login ? s.login : s.activity, json: e.json })));
  const raw = await RawWriter.open();
  const rand = prng(5);
  const [london, sydney] = [CITIES[0], CITIES[5]];

  // BullMQ's event stream: `added` entries carry the job id; their ids carry the Redis time.
  const eventsKey = `{${prefix}}:bull:set-delivery:events`;
  const added = new Map<string, number>();
  const listener = redisClient();
  let listening = true;
  const listen = (async () => {
    let last = '$';
    while (listening) {
      const res = (await listener.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', eventsKey, last)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [, rows] of res ?? []) {
        for (const [id, f] of rows) {
          last = id;
          if (f[1] === 'added') added.set(f[f.indexOf('jobId') + 1]!, idMs(id));
        }
      }
    }
  })();

  const probes: Array<{ user: string; xadd: number; jobId: string }> = [];
  let sent = 0;
  let probeN = 0;
  let nextProbe = 0;
  const homeAhead = 10; // home logins go out this many probes ahead of their impossible second login
  const probeUser = (i: number): string => `probe-${i}@bench.example`;
  const tick = 10;
  try {
    await sleep(300);
    const t0 = Date.now();
    const measureFrom = t0 + opts.warmup * 1000;
    const until = t0 + total * 1000;
    let bi = 0;
    let homesSent = false;
    let cpu0: { w: number; r: number; sent: number } | undefined;
    nextProbe = measureFrom;
    const home = (i: number, now: number): string => JSON.stringify(loginEvent(`probe-h-${i}`, probeUser(i), now - 2 * 3_600_000, london, rand));
    while (Date.now() < until) {
      const now = Date.now();
      const p = redis.pipeline();
      const due = Math.floor(((now - t0) / 1000) * opts.rate) - sent;
      const marks: Array<{ idx: number; user: string }> = [];
      const nb = Math.max(0, Math.min(due, background.length - bi));
      raw.send(load.bytes.subarray(load.at[bi], load.at[bi + nb]), nb);
      bi += nb;
      let n = 0;
      if (!cpu0 && now >= measureFrom) cpu0 = { w: await w.cpu(), r: await redisCpu(redis), sent };
      if (!homesSent && now >= measureFrom - 1000) {
        // Each probe user's home login goes out `homeAhead` probes before their impossible one.
        for (let k = 0; k < homeAhead; k++, n++) p.xadd(s.login, '*', 'event', home(k, now));
        homesSent = true;
      }
      while (now >= measureFrom && nextProbe <= now) {
        const user = probeUser(probeN);
        p.xadd(s.login, '*', 'event', JSON.stringify(loginEvent(`probe-f-${probeN}`, user, now, sydney, rand)));
        marks.push({ idx: n++, user });
        p.xadd(s.login, '*', 'event', home(probeN + homeAhead, now));
        n++;
        probeN++;
        nextProbe += 1000 / opts.probesPerS;
      }
      const res = p.length ? ((await p.exec()) ?? []) : [];
      for (const [err] of res) if (err) throw err;
      sent += n + nb;
      for (const m of marks) probes.push({ user: m.user, xadd: idMs(res[m.idx]![1] as string), jobId: levelChangeJobId('bench', m.user, 1) });
      const wait = tick - (Date.now() - now);
      if (wait > 0) await sleep(wait);
    }
    await raw.drain();
    const elapsed = (Date.now() - t0) / 1000;
    const measured = Math.max(1, sent - (cpu0?.sent ?? 0));
    const workerCpu = ((await w.cpu()) - (cpu0?.w ?? 0)) / measured;
    const redisCpuPer = ((await redisCpu(redis)) - (cpu0?.r ?? 0)) / measured;
    // Let the last probes through.
    const deadline = Date.now() + 10_000;
    const got = (): number => probes.filter((p) => receiver.receipts.some((r) => r.user === p.user)).length;
    while (Date.now() < deadline && (probes.some((p) => !added.has(p.jobId)) || got() < probes.length)) await sleep(100);
    const recvAt = new Map<string, number>();
    for (const r of receiver.receipts) if (!recvAt.has(r.user)) recvAt.set(r.user, r.at);
    const enq = probes.filter((p) => added.has(p.jobId)).map((p) => added.get(p.jobId)! - p.xadd);
    const rec = probes.filter((p) => recvAt.has(p.user)).map((p) => recvAt.get(p.user)! - p.xadd);
    const stats = (v: number[]) => ({ p50: percentile(v, 50), p95: percentile(v, 95), p99: percentile(v, 99), max: percentile(v, 100) });
    const r: LatencyResult = {
      bench: 'latency',
      offered_per_s: opts.rate,
      achieved_per_s: round(sent / elapsed),
      seconds: round(elapsed, 1),
      probes: probes.length,
      enqueued_ms: stats(enq),
      received_ms: stats(rec),
      missing: probes.length - Math.min(enq.length, rec.length),
      mean_batch: round(w.read / Math.max(1, w.batches), 1),
      worker_cpu_us: round(workerCpu * 1e6, 1),
      redis_cpu_us: round(redisCpuPer * 1e6, 1),
    };
    report(r, [
      ['offered / achieved events/s', `${r.offered_per_s} / ${r.achieved_per_s}`],
      ['seconds (incl. warm-up)', r.seconds],
      ['probes (impossible-travel logins)', r.probes, r.missing ? `${r.missing} missing` : ''],
      ['worker mean batch', r.mean_batch],
      ['CPU µs per event: worker / Redis', `${r.worker_cpu_us} / ${r.redis_cpu_us}`, 'while offered, after the warm-up'],
      [
        'XADD → SET job enqueued p50/p95/p99 ms',
        `${r.enqueued_ms.p50} / ${r.enqueued_ms.p95} / ${r.enqueued_ms.p99}`,
        `max ${r.enqueued_ms.max}; target p99 < 25`,
      ],
      ['XADD → SET received p50/p95/p99 ms', `${r.received_ms.p50} / ${r.received_ms.p95} / ${r.received_ms.p99}`, `max ${r.received_ms.max}`],
    ]);
    return r;
  } finally {
    // Diagnostics: BENCH_WORKER_LOG=1 prints what the worker logged (slow steps, errors).
    if (process.env.BENCH_WORKER_LOG) console.log(w.output());
    listening = false;
    await listen.catch(() => undefined);
    listener.disconnect();
    raw.close();
    await w.stop();
    await receiver.close();
    cfg.remove();
  }
}
