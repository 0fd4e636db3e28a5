/**
 * Diagnostic (not part of `npm run bench`): the engine's commits of the end-to-end benchmark's
 * events against Redis, as the owner sends them — per group of `--group` events, each
 * partition's applied states, risk events and session identities in one commit script call, all
 * partitions in one pipeline — without the rest of the worker, so that Redis's cost per event
 * compares at the same commit sizes (the latency bench's commit sizes follow the machine's load).
 * Prints, per round (a fresh prefix each), from INFO commandstats and INFO cpu: Redis CPU µs per
 * event, the commit script's µs per event and per call, and Redis commands per event.
 *   REDIS_URL=redis://127.0.0.1:6391 node --import tsx bench/commit-replay.ts [events] [--group n] [--rounds n]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { applyContextOf } from '../src/runtime/apply-context.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import { orderKey } from '../src/partition.js';
import { applyItems } from '../src/engine/apply.js';
import { emptyDelta, queueCommit, type PartitionDelta } from '../src/engine/commit.js';
import type { RoutedItem } from '../src/engine/routed.js';
import { emptyState, type UserState } from '../src/risk/state.js';
import { pipeline } from '../src/redis/client.js';
import type { StreamEvent } from '../src/types.js';
import { identityBuilder } from '../pipelines/session-audit.js';
import { createSessionStore } from '../src/sessions/service.js';
import type { PreparedPut } from '../src/sessions/store.js';
import { generate } from './data.js';
import { ROOT, round, withPrefix } from './lib.js';

const { values: args, positionals } = parseArgs({
  options: { group: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 20_000);
const GROUP = Number(args.group);
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const now = Date.now();
const base = now - 3_600_000;
const ctx = applyContextOf(config, now);
const raw = generate({ events: N, users: 10_000, seed: 7 });
const build = identityBuilder(() => config.raw.sessions);

/** Redis's counters: per command calls and µs, and its CPU seconds. */
async function counters(redis: import('ioredis').Redis): Promise<{ cmds: Map<string, [number, number]>; cpu: number }> {
  const cmds = new Map<string, [number, number]>();
  for (const line of String(await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) cmds.set(m[1]!, [Number(m[2]), Number(m[3])]);
  }
  const info = String(await redis.info('cpu'));
  const num = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return { cmds, cpu: num('used_cpu_sys') + num('used_cpu_user') };
}

const runs: Array<{ cpu: number; script: number; perCall: number; cmds: number }> = [];
for (let r = 0; r < Number(args.rounds); r++) {
  await withPrefix('commit-replay', async (prefix, redis) => {
    const keys = new Keys(prefix, config.raw.engine.partitions);
    const store = createSessionStore(redis, keys, () => config.raw.sessions);
    for (const p of keys.partitionList) await redis.set(keys.engineLease(`p${p}`), 'bench#1');
    const states = new Map<string, UserState>();
    const indexed = new Map<string, string>();
    let commit = 0;
    const before = await counters(redis);
    for (let i = 0; i < N; i += GROUP) {
      const byPartition = new Map<number, Map<string, RoutedItem[]>>();
      raw.slice(i, i + GROUP).forEach((e, j) => {
        const stream = e.login ? `${prefix}:login` : `${prefix}:activity`;
        const id = `${base + i + j}-0`;
        const d = decodeEntry({ stream, id, fields: { event: e.json }, deliveries: 1 }, { mapping: config.raw.mapping }, now);
        if (!d.ok) return;
        const k = orderKey(id, e.login ? 0 : 1);
        const p = keys.partitionOf(d.event.user);
        const users = byPartition.get(p) ?? byPartition.set(p, new Map()).get(p)!;
        const l = users.get(d.event.user) ?? users.set(d.event.user, []).get(d.event.user)!;
        l.push({ k: [k.ms, k.seq], s: stream, i: id, e: d.event });
      });
      const pipe = pipeline(redis);
      const sent: Array<{ d: PartitionDelta; sigs: Map<string, string>; put: PreparedPut | undefined }> = [];
      for (const [p, users] of byPartition) {
        const d = emptyDelta(p, { ms: base + i + GROUP, seq: 0 });
        for (const [user, items] of users) {
          const a = applyItems(user, states.get(user) ?? emptyState(user), items, ctx);
          states.set(user, a.state);
          d.states.set(user, a.state);
          for (const e of a.events) d.events.push(e);
          const evs: StreamEvent[] = [];
          for (const it of items) if ('e' in it) evs.push({ ref: { stream: it.s, id: it.i }, event: it.e, deliveries: 1 });
          for (const s of build(evs)) d.sessions.push(s);
        }
        const put = d.sessions.length ? store.prepare(d.sessions) : undefined;
        const { sigs } = queueCommit(pipe, keys, d, { token: 'bench#1', id: `c${commit++}` }, { eventsMaxlen: 1000, now }, (u) => indexed.get(u), put?.ops);
        sent.push({ d, sigs, put });
      }
      const res = (await pipe.exec()) ?? [];
      await Promise.all(
        sent.map(async ({ sigs, put }, j) => {
          const [err, reply] = res[j] ?? [];
          if (err) throw err;
          for (const [u, s] of sigs) indexed.set(u, s);
          if (put) {
            const [, puts, dropped] = reply as [number, unknown[], string[][]];
            await put.finish(puts, dropped);
          }
        }),
      );
    }
    const after = await counters(redis);
    let cmds = 0;
    for (const [name, [calls]] of after.cmds) {
      if (!['evalsha', 'info', 'exec', 'multi'].includes(name)) cmds += calls - (before.cmds.get(name)?.[0] ?? 0);
    }
    const [calls, usec] = after.cmds.get('evalsha')!;
    const [calls0, usec0] = before.cmds.get('evalsha') ?? [0, 0];
    const run = {
      cpu: round(((after.cpu - before.cpu) * 1e6) / N, 1),
      script: round((usec - usec0) / N, 1),
      perCall: round((usec - usec0) / (calls - calls0), 1),
      cmds: round(cmds / N, 2),
    };
    runs.push(run);
    console.log(
      JSON.stringify({
        bench: 'commit-replay',
        round: r,
        events: N,
        group: GROUP,
        commits: calls - calls0,
        redis_cpu_us_per_event: run.cpu,
        script_us_per_event: run.script,
        script_us_per_call: run.perCall,
        commands_per_event: run.cmds,
      }),
    );
  });
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `median of ${runs.length}: Redis CPU ${med(runs.map((x) => x.cpu))} µs/event, commit script ${med(runs.map((x) => x.script))} µs/event (${med(runs.map((x) => x.perCall))} µs/call), ${med(runs.map((x) => x.cmds))} commands/event`,
);
process.exit(0);
