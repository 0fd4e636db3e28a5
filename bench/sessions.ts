/**
 * Diagnostic (not part of `npm run bench`): the session-identity work of the engine alone — each
 * applied login's identity (identityBuilder: redaction, secret scrubbing) and the commit's
 * preparation of its partition's session commands (SessionStore.prepare) — over the end-to-end
 * benchmark's events, in process and without Redis, repeated `--rounds` times: medians, µs per
 * event, of wall and of CPU time.
 *   node --import tsx bench/sessions.ts [events] [--rounds n] [--group n]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import type { StreamEvent } from '../src/types.js';
import type { SessionIdentity } from '../src/sessions/identity.js';
import { identityBuilder } from '../pipelines/session-audit.js';
import { createSessionStore } from '../src/sessions/service.js';
import { generate } from './data.js';
import { ROOT, round } from './lib.js';

const { values: args, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, group: { type: 'string', default: '2000' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 100_000);
const ROUNDS = Number(args.rounds);
const GROUP = Number(args.group);
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const keys = new Keys('sessions', config.raw.engine.partitions);
const now = Date.now();
const base = now - 3_600_000;
// Commit groups of decoded events, split by partition then user (as the engine applies them).
const groups: StreamEvent[][][][] = [];
const raw = generate({ events: N, users: 10_000, seed: 7 });
for (let i = 0; i < N; i += GROUP) {
  const byPart = new Map<number, Map<string, StreamEvent[]>>();
  raw.slice(i, i + GROUP).forEach((e, j) => {
    const stream = e.login ? 'sessions:login' : 'sessions:activity';
    const ref = { stream, id: `${base + i + j}-0` };
    const d = decodeEntry({ ...ref, fields: { event: e.json }, deliveries: 1 }, { mapping: config.raw.mapping }, now);
    if (!d.ok) return;
    const p = keys.partitionOf(d.event.user);
    let users = byPart.get(p);
    if (!users) byPart.set(p, (users = new Map()));
    const l = users.get(d.event.user);
    if (l) l.push({ ref, event: d.event, deliveries: 1 });
    else users.set(d.event.user, [{ ref, event: d.event, deliveries: 1 }]);
  });
  groups.push([...byPart.values()].map((users) => [...users.values()]));
}
const build = identityBuilder(() => config.raw.sessions);
// lazyConnect: the store only prepares commands here, nothing is sent.
const store = createSessionStore(new Redis({ lazyConnect: true }), keys, () => config.raw.sessions);
// Wall time is noisy on a shared machine: CPU time (this process's) is reported beside it.
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const runs: Array<{ build: number; prepare: number; buildCpu: number; prepareCpu: number }> = [];
let sessions = 0;
for (let r = 0; r < ROUNDS; r++) {
  const built: SessionIdentity[][] = [];
  let [t0, c0] = [performance.now(), cpu()];
  for (const parts of groups) {
    for (const users of parts) {
      const ids: SessionIdentity[] = [];
      for (const l of users) for (const id of build(l)) ids.push(id);
      built.push(ids);
    }
  }
  const [t1, c1] = [performance.now(), cpu()];
  for (const ids of built) if (ids.length) store.prepare(ids);
  const [t2, c2] = [performance.now(), cpu()];
  sessions = built.reduce((n, ids) => n + ids.length, 0);
  runs.push({ build: t1 - t0, prepare: t2 - t1, buildCpu: c1 - c0, prepareCpu: c2 - c1 });
  [t0, c0] = [t2, c2];
}
const per = (ms: number): number => round((ms * 1000) / N, 2);
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = (f: (x: (typeof runs)[number]) => number): number => per(med(runs.map(f)));
console.log(
  JSON.stringify({
    bench: 'sessions',
    events: N,
    rounds: ROUNDS,
    sessions,
    us_per_event: { build: m((x) => x.build), prepare: m((x) => x.prepare), total: m((x) => x.build + x.prepare) },
    cpu_us_per_event: { build: m((x) => x.buildCpu), prepare: m((x) => x.prepareCpu), total: m((x) => x.buildCpu + x.prepareCpu) },
  }),
);
process.exit(0);
