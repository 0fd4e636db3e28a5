/**
 * The lower bound of CPU per event on this machine, in the same run as the end-to-end figure, and
 * the throughput it allows: what the end-to-end ratio is compared with.
 *
 * - **Logic**: `bench/stages.ts` in a child process — decode, routing encoding, apply, session
 *   identities and commit encoding of the same 100 000 events, in memory, no I/O — as the CPU of
 *   every thread of that process (`process.cpuUsage`): V8's garbage-collector helper threads
 *   (parallel scavenges, concurrent marking) do a third as much work again as the main thread, on
 *   the same two cores.
 * - **I/O**: the I/O floor's CPU per event (`bench/io-floor.ts`: the design's Redis traffic from one
 *   Node process, no logic), client and Redis.
 *
 * Bound = cores × 1 s / (logic + I/O) events/s: every core busy all the time with nothing but that
 * work. The two overlap a little (both parse the input's JSON, ≈ 2 µs), which makes the bound
 * slightly generous. It leaves out work that the end to end does and that neither measures: the
 * risk events, outboxes, indexes and the relay, password_spray's per-IP sets, the SET jobs.
 */
import { execFileSync } from 'node:child_process';
import type { IoFloorResult } from './io-floor.js';
import { report, ROOT, round } from './lib.js';

export interface BoundResult {
  bench: 'bound';
  cores: number;
  /** The engine's logic per event, all threads (µs). */
  logic_cpu_us: number;
  /** Of which the main thread's stages (µs). */
  logic_main_us: number;
  /** The I/O floor per event: client + Redis (µs). */
  io_cpu_us: number;
  events_per_s: number;
  ratio_to_ceiling: number;
}

interface StagesLine {
  bench: 'stages';
  total_us: number;
  process_cpu_us: number;
}

/** Runs the logic stages and computes the bound against this run's I/O floor and ceiling. */
export function bound(events: number, cores: number, floor: IoFloorResult, ceilingPerS: number): BoundResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/stages.ts', String(events)], { cwd: ROOT, encoding: 'utf8' });
  const line = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StagesLine)
    .find((l) => l.bench === 'stages');
  if (!line) throw new TypeError('bench/stages.ts printed no result');
  // CPU s per 100 k events → µs per event: × 10.
  const io = (floor.node_cpu_s_per_100k + floor.redis_cpu_s_per_100k) * 10;
  const perS = (cores * 1e6) / (line.process_cpu_us + io);
  const r: BoundResult = {
    bench: 'bound',
    cores,
    logic_cpu_us: line.process_cpu_us,
    logic_main_us: line.total_us,
    io_cpu_us: round(io, 1),
    events_per_s: Math.round(perS),
    ratio_to_ceiling: round(perS / ceilingPerS, 3),
  };
  report(r, [
    [
      'logic µs per event, all threads (main thread)',
      `${r.logic_cpu_us} (${r.logic_main_us})`,
      'bench/stages.ts: decode, route, apply, identities, commit encoding',
    ],
    ['I/O floor µs per event, client + Redis', r.io_cpu_us, 'bench/io-floor.ts'],
    ['events/s with every core busy', r.events_per_s, `${cores} cores / (logic + I/O)`],
    ['ratio to ceiling', r.ratio_to_ceiling, 'the nearest figure the measurement allows'],
  ]);
  return r;
}
