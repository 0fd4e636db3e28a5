/**
 * The engine's commit script against the one it replaced (test/redis/before/engine-commit-2.lua,
 * the script before issue 16's Redis work, with the client's clean-up of trimmed sessions that
 * today's script does itself): random sequences of session logins (shared session
 * ids across users, repeated logins, devices, a clock that moves past expiries, a changing
 * `max_per_user`), revocations and repeated commit ids, run on two prefixes — the old script on
 * one, today's on the other — must give the same replies and the same stored state, TTLs
 * included (real Redis). The edges are counted: revoked replays, refused rebinds, trims to
 * max_per_user, device caps, expiries and users with many sessions must all have happened.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { snapshot, snapshotDiff } from '../helpers/redis-snapshot.js';

const redis = redisClient(3); // its own database: its prefixes are scanned once per run
const base = testPrefix('commit-equivalence');
const BEFORE = readFileSync(new URL('../redis/before/engine-commit-2.lua', import.meta.url), 'utf8');
const TOKEN = 'w#1';
const TEN_MIN = 600_000;

const used: string[] = [];

afterAll(async () => {
  for (const prefix of used) await cleanup(redis, prefix);
  redis.disconnect();
});

/**
 * SUSER's flat arguments in the old script's form: one JSON argument `[now, max, device ttl,
 * [sessions…], [devices…]]` (without the keys and user of the sessions it trims: the old script
 * left those to the client's clean-up, {@link oldCleanup}).
 */
function jsonSuser(op: string[]): string[] {
  if (op[0] !== 'SUSER') return op;
  const n = Number(op[11]);
  const packed = JSON.stringify([op[7], op[8], op[9], op.slice(12, 12 + n), op.slice(12 + n)]);
  return ['SUSER', op[1]!, op[2]!, packed, op[10]!];
}

/**
 * SUSER without the (expires_at, id) pairs of the indexed SPUTs in `notStored` (their positions
 * among the indexed SPUTs, one with a by-login key): today's script keeps the logins its SPUTs did
 * not store (older than the stored one, revoked, or another user's) out of the user's index (the old
 * one indexed them: a revoked or refused one could push a session of the user's own over
 * max_per_user, an older one put its expiry in place of the stored session's). The user's j-th pair
 * is the user's j-th indexed SPUT's.
 */
function withoutPairs(op: string[], ops: readonly string[][], notStored: ReadonlySet<number>): string[] {
  if (op[0] !== 'SUSER' || !notStored.size) return op;
  const mine = indexedPuts(ops).flatMap((o, k) => (o[6] === op[6] ? [k] : []));
  const n = Number(op[11]);
  const pairs: string[] = [];
  for (let i = 12, j = 0; i < 12 + n; i += 2, j++) if (!notStored.has(mine[j]!)) pairs.push(op[i]!, op[i + 1]!);
  return [...op.slice(0, 11), String(pairs.length), ...pairs, ...op.slice(12 + n)];
}

/**
 * SUSER without the device entries of the logins its user's SPUTs were refused, or revoked by
 * another user's tombstone (`refused`: user and session id, `\n`-joined): today's script leaves them
 * out of the user's devices (the old one listed a device naming another user's session).
 */
function withoutRefusedDevices(op: string[], refused: ReadonlySet<string>): string[] {
  if (op[0] !== 'SUSER' || !refused.size) return op;
  const n = Number(op[11]);
  const devices: string[] = [];
  for (let i = 12 + n; i + 2 < op.length; i += 3) {
    const sid = (JSON.parse(op[i + 2]!) as { session_id: string }).session_id;
    if (!refused.has(`${op[6]}\n${sid}`)) devices.push(op[i]!, op[i + 1]!, op[i + 2]!);
  }
  return [...op.slice(0, 12 + n), ...devices];
}

/** The indexed SPUTs (with a by-login key), in order. */
const indexedPuts = (ops: readonly string[][]): string[][] => ops.filter((o) => o[0] === 'SPUT' && o.length === 9);

/**
 * The partition's index procedure (SIDX) as the old script's plain ZADD GT, without the members of
 * the indexed SPUTs in `notStored`: today's script indexes only the logins its SPUTs stored, where
 * the old one indexed every login and the client's clean-up then removed revoked replays and moved
 * the partition's indexes back to a refused login's owner's times (which could be wrong: an owner
 * not indexed at all — stored expired —, or an owner's later login in the same commit). The k-th
 * (score, id) pair is the k-th indexed SPUT's.
 */
function plainIndex(op: string[], notStored: ReadonlySet<number>): string[] {
  if (op[0] !== 'SIDX') return op;
  const out = ['ZADD', op[1]!, 'GT'];
  for (let i = 2, k = 0; i < op.length; i += 2, k++) if (!notStored.has(k)) out.push(op[i]!, op[i + 1]!);
  return out.length > 3 ? out : ['EXISTS', op[1]!];
}

/** What the client did after the old script for the sessions it trimmed: the keys and index members deleted. */
async function oldCleanup(keys: Keys, dropped: readonly string[]): Promise<void> {
  const c = redis.pipeline();
  for (const id of dropped) c.del(keys.session(0, id)).zrem(keys.sessionsByLogin(0), id).zrem(keys.sessionsByExpiry(0), id);
  await c.exec();
}

const login = fc.record({
  user: fc.integer({ min: 0, max: 2 }),
  sid: fc.integer({ min: 0, max: 11 }),
  at: fc.integer({ min: -6, max: 3 }),
  life: fc.integer({ min: 1, max: 12 }),
  dev: fc.option(fc.integer({ min: 0, max: 3 })),
});
const step = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      logins: fc.array(login, { minLength: 1, maxLength: 6 }),
      max: fc.integer({ min: 1, max: 12 }),
      burst: fc.integer({ min: 0, max: 4 }),
      advance: fc.integer({ min: 0, max: 3 }),
      repeat: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), sid: fc.integer({ min: 0, max: 11 }), user: fc.integer({ min: 0, max: 2 }) }) },
);

/** One login of `s0` by `u0` (a revocation between two of these makes the second a revoked replay). */
const again = { kind: 'put' as const, logins: [{ user: 0, sid: 0, at: 0, life: 6, dev: null }], max: 12, burst: 1, advance: 0, repeat: false };

/**
 * A fixed example that reaches the other counted edges whatever the random runs draw: a user with
 * many sessions (a burst), a trim to max_per_user and a full device registry (max 3), a refused
 * rebind, a resent commit, an expired login.
 */
const put = (
  logins: Array<{ user: number; sid: number; at: number; life: number; dev: number | null }>,
  o: { max?: number; burst?: number; advance?: number; repeat?: boolean } = {},
) => ({
  kind: 'put' as const,
  logins,
  max: o.max ?? 12,
  burst: o.burst ?? 1,
  advance: o.advance ?? 0,
  repeat: o.repeat ?? false,
});
const edges = [
  put(
    [
      { user: 0, sid: 10, at: 0, life: 12, dev: 0 },
      { user: 0, sid: 11, at: 0, life: 12, dev: 1 },
    ],
    { burst: 0 },
  ),
  put([{ user: 0, sid: 10, at: 1, life: 12, dev: 2 }], { max: 3 }),
  put([{ user: 1, sid: 10, at: 1, life: 12, dev: null }]),
  put([{ user: 2, sid: 0, at: 0, life: 1, dev: null }], { advance: 3, repeat: true }),
  put([{ user: 2, sid: 1, at: -6, life: 1, dev: null }]),
];

const seen = { revoked: 0, refused: 0, trimmed: 0, deviceCap: 0, expired: 0, many: 0, repeated: 0 };

describe('engine commit script: the same replies and stored state as the script it replaced', () => {
  it('random logins, revocations and resent commits', { timeout: 120_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        run++;
        const t0 = Math.floor(Date.now() / TEN_MIN) * TEN_MIN;
        let now = t0;
        let max = 100;
        const sides = (['old', 'new'] as const).map((side) => {
          const prefix = `${base}:${run}-${side}`;
          used.push(prefix);
          const keys = new Keys(prefix, 1);
          const store = new SessionStore(redis, keys, { now: () => now, maxPerUser: () => max, deviceRetention: 86_400_000 });
          return { side, prefix, keys, store };
        });
        for (const s of sides) await redis.set(s.keys.engineLease('p0'), TOKEN);
        let commitId = '';
        const firstReplies = new Map<string, unknown>();
        for (const [i, st] of steps.entries()) {
          if (st.kind === 'revoke') {
            const r = await Promise.all(sides.map((s) => s.store.revoke(`s${st.sid}`, { actor: 'test', reason: 'x' }, `u${st.user}@x`)));
            expect(r[1]).toEqual(r[0]);
          } else {
            now += st.advance * TEN_MIN;
            max = st.max;
            const repeated = st.repeat && commitId !== '';
            if (!repeated) commitId = `c${i}`;
            else seen.repeated++;
            // Now and then one user logs in ten sessions at once (users with 8 or more sessions).
            const burst = st.burst === 0 ? Array.from({ length: 10 }, (_, j) => ({ user: 0, sid: j, at: 0, life: 12, dev: null })) : [];
            const ids: SessionIdentity[] = [...st.logins, ...burst].map((l) => {
              const at = now + l.at * TEN_MIN;
              const s: SessionIdentity = { session_id: `s${l.sid}`, user: `u${l.user}@x`, claims: {}, login_at: at, expires_at: at + l.life * TEN_MIN };
              if (l.dev !== null) s.device = { id: `d${l.dev}` };
              return s;
            });
            const replies: unknown[] = [];
            // Today's script first: what its SPUTs did not store, the old script is not given to index.
            const notStored = new Set<number>();
            // Nor the devices of the logins it refused (their ids another user's, or revoked as another user's).
            const refused = new Set<string>();
            for (const s of [...sides].reverse()) {
              const pos = `${i + 1}-0`;
              await redis.xadd(s.keys.partitionIn(0), pos, 'f', 'v');
              const prepared = s.store.prepare(ids);
              const args = [s.keys.engineLease('p0'), s.keys.partitionPos(0), TOKEN] as const;
              const rest = [pos, s.keys.partitionIn(0), commitId, `${i + 1}-1`] as const;
              const res =
                s.side === 'old'
                  ? await redis.eval(
                      BEFORE,
                      2,
                      ...args,
                      packOps(
                        prepared.ops.map((op) => jsonSuser(withoutRefusedDevices(withoutPairs(plainIndex(op, notStored), prepared.ops, notStored), refused))),
                      ),
                      ...rest,
                    )
                  : await scriptsOn(redis).engineCommit(2, ...args, packOps(prepared.ops), ...rest);
              replies.push(res);
              const [, puts, dropped] = (repeated ? [0, [], []] : res) as [number, unknown[], string[][]];
              if (s.side === 'new' && !repeated) {
                // puts: one reply per SPUT, in order; k counts the indexed ones.
                let k = 0;
                for (const [j, o] of prepared.ops.filter((x) => x[0] === 'SPUT').entries()) {
                  if (o.length !== 9) continue;
                  if (puts[j] !== 1) notStored.add(k);
                  if (Array.isArray(puts[j])) refused.add(`${o[6]}\n${o[8]}`);
                  // Revoked by another user's tombstone: its device entry is left out too.
                  if (puts[j] === -1 && (JSON.parse((await redis.get(o[2]!)) ?? 'null') as { user?: string } | null)?.user !== o[6])
                    refused.add(`${o[6]}\n${o[8]}`);
                  k++;
                }
              }
              const outcome = await prepared.finish(puts, dropped);
              if (s.side === 'old') await oldCleanup(s.keys, outcome.dropped);
            }
            if (repeated) {
              // A resent commit writes nothing; today's script answers the first run's outcomes
              // (kept beside its id: their reply was lost with the connection), the old one none.
              expect(replies[1]).toEqual([0, [], []]);
              expect(replies[0]).toEqual([0, ...(firstReplies.get(commitId) as unknown[]).slice(1)]);
            } else {
              expect(replies[1]).toEqual(replies[0]);
              firstReplies.set(commitId, replies[0]);
            }
            const [, puts, dropped] = replies[0] as [number, unknown[], string[][]];
            seen.revoked += puts.filter((p) => p === -1).length;
            seen.refused += puts.filter((p) => Array.isArray(p)).length;
            seen.trimmed += dropped.filter((d) => d.length > 0).length;
            seen.expired += ids.filter((s) => s.expires_at <= now).length;
          }
          const [a, b] = await Promise.all(sides.map((s) => snapshot(redis, s.prefix)));
          // Today's script keeps its session outcomes beside the commit id (`reply`), for a resent
          // commit to answer them (test/redis/resend-writes.test.ts); the old one kept none.
          const pos = b!.get(':{p0}:pos');
          if (pos) pos.value = (pos.value as Array<[string, string]>).filter(([f]) => f !== 'reply');
          // A revocation's tombstone holds its call's own id (src/sessions/store-revoke.ts), random per call.
          for (const snap of [a!, b!])
            for (const [name, k] of snap)
              if (name.includes(':revoked-session:') && typeof k.value === 'string') k.value = k.value.replace(/,"call":"[^"]*"/, '');
          expect(snapshotDiff(a!, b!)).toEqual([]);
          for (const [name, k] of a!) {
            if (name.endsWith(':devices') && (k.value as unknown[]).length === max && max < 4) seen.deviceCap++;
            if (k.type === 'zset' && name.endsWith(':sessions') && (k.value as unknown[]).length >= 16) seen.many++;
          }
        }
        for (const s of sides) await cleanup(redis, s.prefix);
      }),
      // Fixed examples: one always reaches the revoked-replay edge (a login, its revocation, the login
      // again), the other the remaining edges.
      { numRuns: 40, endOnFailure: true, examples: [[[again, { kind: 'revoke', sid: 0, user: 0 }, again]], [edges]] },
    );
    expect(Object.entries(seen).filter(([, n]) => n === 0)).toEqual([]);
  });
});
