/**
 * Diagnostic (not part of `npm run bench`): the engine's per-event work timed stage by stage, in
 * process and without Redis, over the end-to-end benchmark's events — the floor of the worker's
 * CPU per event whatever the I/O costs: decode, route encoding (pack + unpack), apply (detect +
 * reduce, one call per event), session identities (built at apply, then the commit's preparation of
 * their commands: SessionStore.prepare on a connection that never connects), and the commit's
 * encoding (states + commands), with commits grouping `--group` events (default 2 000: ≈ 50 ms at
 * 40 k events/s).
 *   node --import tsx bench/stages.ts [events] [--group n]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.js';
import { applyContextOf } from '../src/runtime/apply-context.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import { orderKey } from '../src/partition.js';
import { applyItems } from '../src/engine/apply.js';
import { commitOps, emptyDelta } from '../src/engine/commit.js';
import { decodeRouted, encodeRouted, type RoutedItem } from '../src/engine/routed.js';
import { emptyState, type UserState } from '../src/risk/state.js';
import { identityBuilder } from '../pipelines/session-audit.js';
import { createSessionStore } from '../src/sessions/service.js';
import { generate } from './data.js';
import { ROOT, round } from './lib.js';

const { values: args, positionals } = parseArgs({ options: { group: { type: 'string', default: '2000' } }, allowPositionals: true });
const N = Number(positionals[0] ?? 100_000);
const GROUP = Number(args.group);
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const keys = new Keys('stages', config.raw.engine.partitions);
const raw = generate({ events: N, users: 10_000, seed: 7 });
const identities = identityBuilder(() => config.raw.sessions);
// lazyConnect: the store only prepares commands here, nothing is sent.
const store = createSessionStore(new Redis({ lazyConnect: true }), keys, () => config.raw.sessions);
const ctx = applyContextOf(config, Date.now());
const t = { decode: 0, route: 0, apply: 0, sessions: 0, commit: 0 };
const states = new Map<string, UserState>();
let sessions = 0;
const base = Date.now() - 3_600_000;
// The process's CPU over the stages, every thread: V8's garbage-collector helper threads work beside
// the main thread (parallel scavenges, concurrent marking), which the stages' timers do not see.
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let i = 0; i < N; i += GROUP) {
  // Decode (the router).
  let t0 = performance.now();
  const items: RoutedItem[] = [];
  raw.slice(i, i + GROUP).forEach((e, j) => {
    const stream = e.login ? 'stages:login' : 'stages:activity';
    const id = `${base + i + j}-0`;
    const d = decodeEntry({ stream, id, fields: { event: e.json }, deliveries: 1 }, { mapping: config.raw.mapping }, ctx.now);
    const k = orderKey(id, e.login ? 0 : 1);
    if (d.ok) items.push({ k: [k.ms, k.seq], s: stream, i: id, e: d.event });
  });
  t.decode += performance.now() - t0;
  // Route: one entry per partition, packed, then unpacked by the owner.
  t0 = performance.now();
  const byPartition = new Map<number, RoutedItem[]>();
  for (const it of items) {
    const p = keys.partitionOf((it as { e: { user: string } }).e.user);
    const l = byPartition.get(p);
    if (l) l.push(it);
    else byPartition.set(p, [it]);
  }
  const decoded = [...byPartition].map(([p, l]) => [p, decodeRouted(encodeRouted(l))] as const);
  t.route += performance.now() - t0;
  // Apply, per partition and user, one reducer call per event; identities of applied logins.
  const deltas = new Map<number, ReturnType<typeof emptyDelta>>();
  for (const [p, list] of decoded) {
    const d = emptyDelta(p, { ms: 0, seq: 0 });
    deltas.set(p, d);
    const byUser = new Map<string, RoutedItem[]>();
    for (const it of list) {
      const u = (it as { e: { user: string } }).e.user;
      const l = byUser.get(u);
      if (l) l.push(it);
      else byUser.set(u, [it]);
    }
    for (const [user, l] of byUser) {
      t0 = performance.now();
      const a = applyItems(user, states.get(user) ?? emptyState(user), l, ctx);
      t.apply += performance.now() - t0;
      states.set(user, a.state);
      d.states.set(user, a.state);
      d.events.push(...a.events);
      t0 = performance.now();
      const ids = identities(a.applied);
      t.sessions += performance.now() - t0;
      sessions += ids.length;
      d.sessions.push(...ids);
    }
  }
  // The commit's preparation of each partition's session commands (part of the sessions stage).
  t0 = performance.now();
  for (const d of deltas.values()) if (d.sessions.length) store.prepare(d.sessions);
  t.sessions += performance.now() - t0;
  // Commit encoding: states, risk events, indexes, packed commands.
  t0 = performance.now();
  for (const d of deltas.values()) commitOps(keys, d, { eventsMaxlen: 1000, now: ctx.now }, () => undefined).release();
  t.commit += performance.now() - t0;
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - wall0;
const per = (ms: number): number => round((ms * 1000) / N, 1);
const us = { decode: per(t.decode), route: per(t.route), apply: per(t.apply), sessions: per(t.sessions), commit: per(t.commit) };
const total = Object.values(us).reduce((a, b) => a + b, 0);
// All threads' CPU per event over the loop (the stages' harness included, a few %).
const processUs = round((cpu.user + cpu.system) / N, 1);
const loopUs = per(wall);
console.log(
  JSON.stringify({
    bench: 'stages',
    events: N,
    group: GROUP,
    users: states.size,
    sessions,
    us_per_event: us,
    total_us: round(total, 1),
    loop_us: loopUs,
    process_cpu_us: processUs,
  }),
);
console.log(
  `# the worker's logic per event without I/O: ${round(total, 1)} µs in the stages (main thread; ${loopUs} µs of wall time with the harness), ` +
    `${processUs} µs of CPU over all threads (the garbage collector's helper threads included)`,
);
process.exit(0);
