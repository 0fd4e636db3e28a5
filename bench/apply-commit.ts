/**
 * Diagnostic (not part of `npm run bench`): the "apply" and "commit" stages of bench/stages.ts
 * alone, over events decoded once beforehand, with the commit's state encoding timed apart. Timed
 * in CPU time of the process (`process.cpuUsage`: GC threads included, time spent descheduled on a
 * busy machine not), so runs on a shared VM compare.
 *   node --import tsx bench/apply-commit.ts [events] [--group n] [--rounds n]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { applyContextOf } from '../src/runtime/apply-context.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import { orderKey } from '../src/partition.js';
import { applyItems } from '../src/engine/apply.js';
import { commitOps, emptyDelta, type PartitionDelta } from '../src/engine/commit.js';
import type { RoutedItem } from '../src/engine/routed.js';
import { encodeState } from '../src/risk/state-codec.js';
import { emptyState, type UserState } from '../src/risk/state.js';
import { generate } from './data.js';
import { ROOT, round } from './lib.js';

const { values: args, positionals } = parseArgs({
  options: { group: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 100_000);
const GROUP = Number(args.group);
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const keys = new Keys('apply-commit', config.raw.engine.partitions);
const ctx = applyContextOf(config, Date.now());
const base = Date.now() - 3_600_000;
// Decoded once: per group, per partition, per user, the user's items.
const groups: Array<Array<[number, Array<[string, RoutedItem[]]>]>> = [];
const raw = generate({ events: N, users: 10_000, seed: 7 });
for (let i = 0; i < N; i += GROUP) {
  const byPartition = new Map<number, Map<string, RoutedItem[]>>();
  raw.slice(i, i + GROUP).forEach((e, j) => {
    const stream = e.login ? 'ac:login' : 'ac:activity';
    const id = `${base + i + j}-0`;
    const d = decodeEntry({ stream, id, fields: { event: e.json }, deliveries: 1 }, { mapping: config.raw.mapping }, ctx.now);
    if (!d.ok) return;
    const k = orderKey(id, e.login ? 0 : 1);
    const p = keys.partitionOf(d.event.user);
    const users = byPartition.get(p) ?? byPartition.set(p, new Map()).get(p)!;
    const l = users.get(d.event.user) ?? users.set(d.event.user, []).get(d.event.user)!;
    l.push({ k: [k.ms, k.seq], s: stream, i: id, e: d.event });
  });
  groups.push([...byPartition].map(([p, users]) => [p, [...users]]));
}
const rounds = Number(args.rounds);
/** CPU time of the process, ms. */
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < rounds; r++) {
  const t = { apply: 0, commit: 0, encode: 0 };
  const states = new Map<string, UserState>();
  let bytes = 0;
  for (const group of groups) {
    const deltas: PartitionDelta[] = [];
    for (const [p, users] of group) {
      const d = emptyDelta(p, { ms: 0, seq: 0 });
      deltas.push(d);
      const t0 = cpu();
      for (const [user, items] of users) {
        const a = applyItems(user, states.get(user) ?? emptyState(user), items, ctx);
        states.set(user, a.state);
        d.states.set(user, a.state);
        for (const e of a.events) d.events.push(e);
      }
      t.apply += cpu() - t0;
    }
    let t0 = cpu();
    for (const d of deltas) for (const s of d.states.values()) bytes += encodeState(s).length;
    t.encode += cpu() - t0;
    t0 = cpu();
    for (const d of deltas) commitOps(keys, d, { eventsMaxlen: 1000, now: ctx.now }, () => undefined).release();
    t.commit += cpu() - t0;
  }
  const per = (ms: number): number => round((ms * 1000) / N, 2);
  console.log(
    JSON.stringify({
      bench: 'apply-commit',
      round: r,
      us_per_event: { apply: per(t.apply), commit: per(t.commit), encode_states: per(t.encode) },
      state_bytes: round(bytes / N, 1),
    }),
  );
}
process.exit(0);
