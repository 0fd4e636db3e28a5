/**
 * Diagnostic (not part of `npm run bench`): how long a partition's backlog behind one poison entry
 * takes to drain, against the same backlog without it. One partition owner in this process (no
 * router, no HTTP), `N` items routed to one partition (`--per-entry` items per entry, as the router
 * writes them), 500 users; the poison is the first item, its apply throwing each time (the
 * `apply:<id>=throw` failpoint, src/engine/failpoints.ts): 3 attempts at the position isolate the
 * partition, 3 tries alone dead-letter the item, then the isolated items are applied (src/engine/poison-guard.ts)
 * until the partition is back to ordinary steps. Prints, per run, the time until everything is
 * committed, items/s, the steps taken and the ratio poison / control.
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/poison-isolation.ts [N] [--per-entry 8] [--rounds 1]
 */
import { parseArgs } from 'node:util';

const POISON = 'evt-poison';
process.env.RISKSTREAM_FAILPOINTS = `apply:${POISON}=throw`; // read once, when src/engine/failpoints.ts loads

const { values: args, positionals } = parseArgs({
  options: { 'per-entry': { type: 'string', default: '8' }, rounds: { type: 'string', default: '1' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 20_000);
const PER_ENTRY = Number(args['per-entry']);

const { loadConfig } = await import('../src/config/load.js');
const { applyContextOf } = await import('../src/runtime/apply-context.js');
const { decodeEntry } = await import('../src/ingest/decode.js');
const { Keys } = await import('../src/keys.js');
const { keyId } = await import('../src/partition.js');
const { PartitionOwner } = await import('../src/engine/owner.js');
const { encodeRouted, ROUTED_FIELD } = await import('../src/engine/routed.js');
const { defineScripts } = await import('../src/redis/scripts.js');
const { ROOT, round, withPrefix } = await import('./lib.js');
type RoutedItem = import('../src/engine/routed.js').RoutedItem;

const config = loadConfig(`${ROOT}/config/riskstream.yaml`);
const PARTITIONS = 64;
const P = 5;

/** Drains the partition's backlog with one owner; the time (ms), steps and dead letters. */
async function run(poison: boolean): Promise<{ ms: number; steps: number; dead: number }> {
  return withPrefix('poison-isolation', async (prefix, redis) => {
    defineScripts(redis);
    const keys = new Keys(prefix, PARTITIONS);
    const users: string[] = [];
    for (let i = 0; users.length < 500; i++) if (keys.partitionOf(`u${i}@example.com`) === P) users.push(`u${i}@example.com`);
    const now = Date.now();
    const base = now - 3_600_000;
    const stream = `${prefix}:activity`;
    let top = '';
    for (let i = 0; i < N; i += PER_ENTRY) {
      const items: RoutedItem[] = [];
      for (let j = i; j < Math.min(N, i + PER_ENTRY); j++) {
        const id = `${base + j}-0`;
        const severity = j % 50 === 0 ? 'high' : 'low';
        const e = {
          type: 'endpoint',
          id: j === 0 && poison ? POISON : `evt-${j}`,
          user: users[j % users.length],
          time: base + j - 500,
          severity,
          detection: 'malware',
          vendor: 'x',
          profile: 'p',
          action: 'block',
          device: { id: 'd' },
        };
        const d = decodeEntry({ stream, id, fields: { event: JSON.stringify(e) }, deliveries: 1 }, { mapping: config.raw.mapping }, now);
        if (!d.ok) throw new Error(`bench event refused: ${JSON.stringify(d)}`);
        items.push({ k: [base + j, 0], s: stream, i: id, e: d.event });
      }
      top = keyId({ ms: items[items.length - 1]!.k[0], seq: 0 });
      await redis.xadd(keys.partitionIn(P), top, ROUTED_FIELD, encodeRouted(items));
    }
    const token = 'bench-poison#1';
    await redis.set(keys.engineLease(`p${P}`), token);
    let dead = 0;
    const ctx = applyContextOf(config, now);
    const owner = new PartitionOwner(
      redis,
      redis,
      keys,
      { lruSize: 10_000, readCount: 2000, commitInterval: 50, commitEntries: 5000, poisonAttempts: 3 },
      {
        context: () => ctx,
        settings: () => ({ eventsMaxlen: 1000, now }),
        sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
        deadLetter: async (bad) => void (dead += bad.length),
        relay: () => undefined,
        onCommitError: (err) => console.error('commit error', err),
        onFenced: () => console.error('fenced'),
        onApplyError: () => undefined,
      },
    );
    owner.acquire(P, token);
    const started = performance.now();
    let steps = 0;
    for (;;) {
      await owner.step(0);
      steps++;
      const c = owner.owned.get(P)?.committed;
      if (c && keyId(c) === top) break;
      if (steps > 10 * N) throw new Error('not drained');
    }
    await owner.settle();
    return { ms: performance.now() - started, steps, dead };
  });
}

for (let r = 0; r < Number(args.rounds); r++) {
  const control = await run(false);
  const poisoned = await run(true);
  const rate = (x: { ms: number }): number => round((N / x.ms) * 1000, 0);
  console.log(
    JSON.stringify({
      items: N,
      perEntry: PER_ENTRY,
      control: { ms: round(control.ms, 0), itemsPerS: rate(control), steps: control.steps, dead: control.dead },
      poison: { ms: round(poisoned.ms, 0), itemsPerS: rate(poisoned), steps: poisoned.steps, dead: poisoned.dead },
      ratio: round(poisoned.ms / control.ms, 1),
    }),
  );
}
process.exit(0);
