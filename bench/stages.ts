/**
 * Diagnostic (not part of `npm run bench`): the worker's per-batch stages timed one at a time,
 * in process, over the end-to-end benchmark's events — decode, score (detect + reduce + commit),
 * session audit. Shows where a batch's time goes.  node --import tsx bench/stages.ts
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
import { ROOT, round, withPrefix } from './lib.js';

const N = Number(process.argv[2] ?? 100_000);
const BATCH = 617;
const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const events = generate({ events: N, users: 10_000, seed: 7 });
const t = { decode: 0, score: 0, sessions: 0, both: 0 };
await withPrefix('stages', async (prefix, redis) => {
  const keys = new Keys(prefix);
  const store = new RiskStore(redis, keys, { lruSize: config.raw.state.lru_size, eventsMaxlen: config.raw.state.max_events_per_user });
  const scorer = new Scorer(store, {
    behaviors: () => config.behaviors,
    limits: () => ({ maxLogins: config.raw.state.max_logins, maxAge: config.raw.state.login_max_age, allowedLateness: config.raw.state.allowed_lateness }),
  });
  const sessions = sessionAudit(createSessionStore(redis, keys, () => config.raw.sessions), () => config.raw.sessions);
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
    await scorer.score(batch, 0, {});
    t.score += performance.now() - t0;
    t0 = performance.now();
    await sessions(batch);
    t.sessions += performance.now() - t0;
  }
});
const per = (ms: number): number => round((ms * 1000) / N, 1);
console.log(JSON.stringify({ bench: 'stages', events: N, us_per_event: { decode: per(t.decode), score: per(t.score), sessions: per(t.sessions), together: per(t.both) } }));
process.exit(0);
