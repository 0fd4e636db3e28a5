/**
 * Equivalence (old vs new, property-based): the commit's commands written in one pass by
 * `commitOps` (states straight into their HSETs, by the MessagePack writer) are byte for byte
 * what the implementation before it made — each state packed by msgpackr, then every command
 * packed by `packOps` —, and `encodeState` is msgpackr's `pack` of the stored state, for states
 * from the reducer and for arbitrary values (strings of every length class and lone surrogates,
 * integers, floats that do or do not fit float32, nested objects and arrays, undefined, a Map).
 */
import fc from 'fast-check';
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { commitOps, CONTROL_RESULT_TTL_MS, emptyDelta, indexSig, type CommitSettings, type PartitionDelta } from '../../src/engine/commit.js';
import { Keys } from '../../src/keys.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState, nextExpiry, type UserState } from '../../src/risk/state.js';
import { levelScore } from '../../src/risk/store.js';
import { idleScore } from '../../src/risk/retention.js';
import type { LevelChange } from '../../src/types.js';

const packr = new Packr({ useRecords: false, moreTypes: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });

/** The state encoding before the writer: msgpackr's pack of the stored fields. */
function oldEncodeState(state: UserState): Buffer {
  const { level, version, behaviors, windows, changedAt, updatedAt } = state;
  return packr.pack({ level, version, behaviors, windows, changedAt, updatedAt });
}

/** commitOps before the writer (verbatim but for the state encoder). */
function oldCommitOps(
  keys: Keys,
  d: PartitionDelta,
  s: CommitSettings,
  indexed: (user: string) => string | undefined,
  extra: readonly string[][] = [],
): Buffer {
  const ops: Array<ReadonlyArray<string | Buffer>> = [...extra];
  const stateKey = keys.partitionState(d.partition);
  let hset: Array<string | Buffer> = [];
  for (const [user, state] of d.states) {
    hset.push(user, oldEncodeState(state));
    if (hset.length >= 200 * 2) {
      ops.push(['HSET', stateKey, ...hset]);
      hset = [];
    }
    const sig = indexSig(state);
    if (indexed(user) !== sig) {
      ops.push(['ZADD', keys.usersByLevel(d.partition), String(levelScore(state)), user]);
      const exp = nextExpiry(state);
      ops.push(exp === null ? ['ZREM', keys.partitionExpiry(d.partition), user] : ['ZADD', keys.partitionExpiry(d.partition), String(exp), user]);
      // Since the idle index (src/risk/retention.ts): its entry too, for a user whose signature is unknown.
      const idle = idleScore(state);
      ops.push(idle === null ? ['ZREM', keys.usersIdle(d.partition), user] : ['ZADD', keys.usersIdle(d.partition), String(idle), user]);
    }
  }
  if (hset.length) ops.push(['HSET', stateKey, ...hset]);
  const outboxUsers = new Set<string>();
  for (const { user, kind, data } of d.events) {
    const json = JSON.stringify(data);
    ops.push(['XADD', keys.userEvents(user), 'MAXLEN', '~', String(s.eventsMaxlen), '*', 'kind', kind, 'data', json]);
    ops.push(['XADD', keys.userOutbox(user), '*', 'kind', kind, 'data', json]);
    outboxUsers.add(user);
  }
  for (const a of d.audits) {
    if (!a.target) continue;
    ops.push(['XADD', keys.userOutbox(a.target), '*', 'kind', 'audit', 'data', JSON.stringify(a)]);
    outboxUsers.add(a.target);
  }
  for (const r of d.results) {
    if (!r.outcome.found) {
      ops.push(['SET', keys.controlResult(d.partition, r.req), JSON.stringify(r.outcome), 'PX', String(CONTROL_RESULT_TTL_MS)]);
      continue;
    }
    ops.push(['XADD', keys.userOutbox(r.user), '*', 'kind', 'result', 'data', JSON.stringify({ req: r.req, outcome: r.outcome })]);
    outboxUsers.add(r.user);
  }
  for (const user of outboxUsers) ops.push(['ZADD', keys.outboxPending(d.partition), String(s.now), user]);
  return packOps(ops);
}

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** Text of every UTF-8 / MessagePack length class, lone surrogates included. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 120 }),
  fc.string({ minLength: 200, maxLength: 300 }),
  fc.string({ unit: 'binary', minLength: 60, maxLength: 400 }),
  fc.constantFrom('\ud800', 'a\udc00b', '\ud83d\ude00'.repeat(20), 'é'.repeat(70), 'x'.repeat(70_000)),
);
const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -200, max: 300 }),
  fc.double(),
  fc.double({ min: -180, max: 180 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 1000),
  fc.constantFrom(NOW, NOW + 0.5, 2 ** 32, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -0, NaN, Infinity, 0.1, 51.5072, -0.1276),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(text, tie('value'), { maxKeys: 8 }),
    fc.dictionary(fc.constantFrom('0', '7', '42', 'b', 'a'), tie('value')),
  ),
}));

const stateArb = (user: string, value: fc.Arbitrary<unknown>, text: fc.Arbitrary<string>): fc.Arbitrary<UserState> =>
  fc.record({
    user: fc.constant(user),
    level: fc.constantFrom('low', 'medium', 'high'),
    version: fc.nat(),
    behaviors: fc.dictionary(
      fc.constantFrom('impossible_travel', 'dlp_detection', 'x'),
      fc.record({
        level: fc.constantFrom('low', 'medium', 'high'),
        firstAt: number,
        lastAt: number,
        expiresAt: fc.option(fc.constant(NOW + 60_000)),
        hits: fc.nat(),
        summary: text,
        evidence: fc.dictionary(text, value, { maxKeys: 4 }),
      }),
      { maxKeys: 3 },
    ),
    windows: fc.dictionary(fc.constantFrom('impossible_travel', 'brute_force', 'mfa_fatigue'), value, { maxKeys: 3 }),
    changedAt: number,
    updatedAt: number,
  }) as fc.Arbitrary<UserState>;

/** Smaller values for the deltas' states (hundreds of users each). */
const small = fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(number, fc.string({ unit: 'binary', maxLength: 70 }), fc.array(number, { maxLength: 5 })), {
  maxKeys: 4,
});

describe('encodeState: msgpackr’s bytes', () => {
  it('arbitrary values in windows and behaviors', () => {
    fc.assert(
      fc.property(stateArb('u', value, text), (s) => {
        const bytes = encodeState(s);
        expect(bytes.equals(oldEncodeState(s))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('what the writer leaves to msgpackr (a Map, a Date): msgpackr’s bytes still', () => {
    const s = { ...emptyState('u'), windows: { m: new Map([['a', 1]]), d: new Date(NOW) } } as unknown as UserState;
    expect(encodeState(s).equals(oldEncodeState(s))).toBe(true);
  });
  it('reads back', () => {
    const s: UserState = { ...emptyState('u'), level: 'high', version: 3, windows: { t: { lat: 51.5072, at: [NOW, NOW - 1] } }, updatedAt: NOW };
    expect(decodeState(encodeState(s), 'u')).toEqual(s);
  });
});

describe('commitOps: the commands as before, byte for byte', () => {
  const keys = new Keys('golden', 1);
  const change = (user: string, v: number): LevelChange => ({
    id: `c-${v}`,
    user,
    version: v,
    previous: 'low',
    current: 'high',
    behaviors: ['x'],
    reason: 'r é \ud800',
    initiatingEntity: 'system',
    time: NOW,
    occurredAt: NOW - 1,
  });
  it('random deltas (HSET chunks, index signatures, events, audits, outcomes, session commands)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 450 }),
        fc.array(stateArb('x', small, fc.string({ maxLength: 40 })), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean(), value), { maxLength: 12 }),
        fc.array(fc.array(text, { minLength: 1, maxLength: 18 }), { maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }),
        fc.func(fc.boolean()),
        (users, states, events, extra, results, known) => {
          const d = emptyDelta(0, { ms: 1, seq: 0 });
          const names = Array.from({ length: users }, (_, i) => (i % 7 === 3 ? `ü${i}@example.com` : `u${i}@example.com`));
          names.forEach((u, i) => d.states.set(u, { ...states[i % states.length]!, user: u }));
          for (const [i, hit, data] of events) {
            const u = names[i % Math.max(1, users)] ?? 'nobody';
            d.events.push(
              hit ? { user: u, kind: 'hit', data: { behavior: 'x', evidence: { v: data } } as never } : { user: u, kind: 'change', data: change(u, i) },
            );
          }
          for (const [i, found] of results) {
            const u = names[i % Math.max(1, users)] ?? 'nobody';
            d.results.push({
              req: `r${i}`,
              user: u,
              outcome: found ? { found: true, previous: 'high', level: 'low', version: i, change: null } : { found: false },
            });
            if (found) d.audits.push({ action: 'risk.reset', actor: 'admin', target: u, time: NOW, details: { i } });
          }
          d.audits.push({ action: 'risk.reset', actor: 'admin', time: NOW, details: {} });
          const indexed = (u: string): string | undefined => (known(u) ? indexSig(d.states.get(u)!) : undefined);
          const s = { eventsMaxlen: 1000, now: NOW };
          const got = commitOps(keys, d, s, indexed, extra);
          expect(got.ops.equals(oldCommitOps(keys, d, s, indexed, extra))).toBe(true);
          expect(got.sigs).toEqual(new Map(names.map((u) => [u, indexSig(d.states.get(u)!)])));
          got.release(); // the next runs reuse the writer, its buffer holding these bytes
        },
      ),
      { numRuns: 120 },
    );
  }, 120_000);
});
