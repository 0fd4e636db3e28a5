/**
 * Diagnostic (not part of `npm run bench`): the worker's per-batch stages timed one at a time,
 * in process, over the end-to-end benchmark's events — decode, score (detect + reduce + commit),
 * session audit. Shows where a batch's time goes.  node --import tsx bench/stages.ts
 * STAGES_REDIS=1 adds Redis's CPU and top commands per event for each stage.
 */
import { loadConfig } from '../src/config/load.js';
import { decodeEntry } from '../src/ingest/decode.js';
import { Keys } from '../src/keys.js';
import { RiskStore } from '../src/risk/store.js';
import { Scorer } from '../src/risk/scorer.js';
import { createSessionStore } from '../src/sessions/service.js';
import { sessionAudit } from '../pipelines/session-audit.js';
import type { StreamEvent } from '../src/types.js';
import { generate } from './data.js';
import { ROOT, commandStats, redisCpu, round, topCommands, withPrefix } from './lib.js';

const N = Number(process.argv[2] ?? 100_000);
const BATCH = 617;
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const events = generate({ events: N, users: 10_000, seed: 7 });
const t = { decode: 0, score: 0, sessions: 0, both: 0 };
/** Redis CPU and top commands per event, for the score and session stages apart. */
const redisBy: Record<string, { cpu: number; stats: Map<string, { calls: number; usec: number }> }> = {};
await withPrefix('stages', async (prefix, redis) => {
  const keys = new Keys(prefix);
  const store = new RiskStore(redis, keys, { lruSize: config.raw.state.lru_size, eventsMaxlen: config.raw.state.max_events_per_user });
  const scorer = new Scorer(store, {
    behaviors: () => config.behaviors,
    limits: () => ({ maxLogins: config.raw.state.max_logins, maxAge: config.raw.state.login_max_age, allowedLateness: config.raw.state.allowed_lateness }),
  });
  const sessions = sessionAudit(
    createSessionStore(redis, keys, () => config.raw.sessions),
    () => config.raw.sessions,
  );
  const mode = process.env.STAGES ?? 'separate';
  let seq = 0;
  for (let i = 0; i < N; i += BATCH) {
    let t0 = performance.now();
    const batch: StreamEvent[] = [];
    for (const e of events.slice(i, i + BATCH)) {
      const stream = e.login ? `${prefix}:login` : `${prefix}:activity`;
      const id = `${1_700_000_000_000 + seq++}-0`;
      const d = decodeEntry({ stream, id, fields: { event: e.json }, deliveries: 1 });
      if (d.ok) batch.push({ ref: { stream, id }, event: d.event, deliveries: 1 });
    }
    t.decode += performance.now() - t0;
    if (mode === 'together') {
      t0 = performance.now();
      await Promise.all([scorer.score(batch, 0, {}), sessions(batch)]);
      t.both += performance.now() - t0;
      continue;
    }
    t0 = performance.now();
    await measured(redis, 'score', () => scorer.score(batch, 0, {}));
    t.score += performance.now() - t0;
    t0 = performance.now();
    await measured(redis, 'sessions', () => sessions(batch));
    t.sessions += performance.now() - t0;
  }
});
const per = (ms: number): number => round((ms * 1000) / N, 1);
for (const [k, v] of Object.entries(redisBy))
  console.log(`# redis for ${k}: ${round((v.cpu * 1e6) / N, 1)} µs CPU per event; ${topCommands(new Map(), v.stats, N, 6)}`);
console.log(
  JSON.stringify({
    bench: 'stages',
    events: N,
    us_per_event: { decode: per(t.decode), score: per(t.score), sessions: per(t.sessions), together: per(t.both) },
  }),
);
process.exit(0);

/** Runs `fn`, adding Redis's CPU and command stats over it to `redisBy[name]` (stats reads cost a round trip each). */
async function measured<T>(redis: import('ioredis').Redis, name: string, fn: () => Promise<T>): Promise<T> {
  if (!process.env.STAGES_REDIS) return fn();
  const [c0, s0] = [await redisCpu(redis), await commandStats(redis)];
  const r = await fn();
  const [c1, s1] = [await redisCpu(redis), await commandStats(redis)];
  const acc = (redisBy[name] ??= { cpu: 0, stats: new Map() });
  acc.cpu += c1 - c0;
  for (const [k, v] of s1) {
    const a = s0.get(k) ?? { calls: 0, usec: 0 };
    const cur = acc.stats.get(k) ?? { calls: 0, usec: 0 };
    acc.stats.set(k, { calls: cur.calls + v.calls - a.calls, usec: cur.usec + v.usec - a.usec });
  }
  return r;
}
