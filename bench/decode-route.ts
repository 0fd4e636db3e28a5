/**
 * Diagnostic (not part of `npm run bench`): the router's per-event CPU only — decode (entry →
 * validated canonical event) and route encoding (partition entries packed, then unpacked by the
 * owner) — timed as in bench/stages.ts, over several rounds of the same events; prints the median
 * µs per event of each, in wall time and in process CPU time, and the CPU time of the quickest
 * round (steadier on a shared, noisy machine).
 * (The whole routing step — reads, enrichment with its Redis calls, writes, acks — is
 * bench/router-cpu.ts.)
 *   node --import tsx bench/decode-route.ts [events] [--rounds n] [--group n]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import { orderKey } from '../src/partition.js';
import { decodeRouted, encodeRouted, type RoutedItem } from '../src/engine/routed.js';
import { generate } from './data.js';
import { ROOT, round } from './lib.js';

const { values: args, positionals } = parseArgs({
  options: { group: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '7' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 50_000);
const GROUP = Number(args.group);
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const keys = new Keys('decode-route', config.raw.engine.partitions);
const raw = generate({ events: N, users: 10_000, seed: 7 });
const opts = { mapping: config.raw.mapping };
const now = Date.now();
const base = now - 3_600_000;

/** One pass over the events: µs per event of decode and of route. */
function pass(): { decode: number; route: number; cpuDecode: number; cpuRoute: number; check: number } {
  let decode = 0;
  let route = 0;
  let cpuDecode = 0;
  let cpuRoute = 0;
  let check = 0;
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let i = 0; i < N; i += GROUP) {
    let t0 = performance.now();
    let c0 = cpu();
    const items: RoutedItem[] = [];
    const end = Math.min(N, i + GROUP);
    for (let j = i; j < end; j++) {
      const e = raw[j]!;
      const stream = e.login ? 'decode-route:login' : 'decode-route:activity';
      const id = `${base + j}-0`;
      const d = decodeEntry({ stream, id, fields: { event: e.json }, deliveries: 1 }, opts, now);
      const k = orderKey(id, e.login ? 0 : 1);
      if (d.ok) items.push({ k: [k.ms, k.seq], s: stream, i: id, e: d.event });
    }
    decode += performance.now() - t0;
    cpuDecode += cpu() - c0;
    t0 = performance.now();
    c0 = cpu();
    const byPartition = new Map<number, RoutedItem[]>();
    for (const it of items) {
      const p = keys.partitionOf((it as { e: { user: string } }).e.user);
      const l = byPartition.get(p);
      if (l) l.push(it);
      else byPartition.set(p, [it]);
    }
    for (const l of byPartition.values()) check += decodeRouted(encodeRouted(l)).length;
    route += performance.now() - t0;
    cpuRoute += cpu() - c0;
  }
  const per = (ms: number): number => (ms * 1000) / N;
  return { decode: per(decode), route: per(route), cpuDecode: per(cpuDecode), cpuRoute: per(cpuRoute), check };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const runs = Array.from({ length: Number(args.rounds) }, pass);
const med = (k: 'decode' | 'route' | 'cpuDecode' | 'cpuRoute'): number => round(median(runs.map((r) => r[k])), 2);
const min = (k: 'cpuDecode' | 'cpuRoute'): number => round(Math.min(...runs.map((r) => r[k])), 2);
const [decode, route, cpuDecode, cpuRoute] = [med('decode'), med('route'), med('cpuDecode'), med('cpuRoute')];
console.log(
  JSON.stringify({
    bench: 'decode-route',
    events: N,
    items: runs[0]!.check,
    us_per_event: { decode, route },
    total_us: round(decode + route, 2),
    cpu_us_per_event: { decode: cpuDecode, route: cpuRoute },
    cpu_total_us: round(cpuDecode + cpuRoute, 2),
    min_cpu_us_per_event: { decode: min('cpuDecode'), route: min('cpuRoute') },
  }),
);
process.exit(0);
