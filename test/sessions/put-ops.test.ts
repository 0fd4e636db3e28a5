import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { sessionPutOps } from '../../src/sessions/put-ops.js';
import { EVENTS, PUT, SETTINGS } from './golden/input.js';

/**
 * Byte-for-byte: the identities' JSON and the commit commands for fixed logins, as recorded
 * (golden/put-ops.json, written by the implementation before the performance work of issue 16; SPUT's
 * by-login index key and session id added with the refresh-started sessions' index move; the SPUT of
 * the identity already expired on the wall clock added when such identities became stored as
 * session_hijack's baseline, with no index arguments; SUSER's device entries of one device, one per
 * session in order — d-9's of s-1 before s-2's — once the script left a refused login's device out).
 */
const golden = JSON.parse(readFileSync(new URL('./golden/put-ops.json', import.meta.url), 'utf8')) as {
  identities: string[];
  ops: string[][];
  users: string[];
  skipped: number;
  part: number;
};

/**
 * A recorded command in today's form: SUSER's JSON argument `[now, max, device ttl, [sessions…],
 * [devices…]]` (before issue 16's Redis work) became flat arguments, the same strings in the same
 * order; the partition's session key prefix, indexes and the user (from the user's index key) came
 * before them when the script began deleting the sessions it trims.
 */
function flatSuser(op: string[]): string[] {
  // The partition's indexes, once plain ZADD GT commands, are the script's SIDX procedure.
  if (op[0] === 'ZADD' && op[2] === 'GT') return ['SIDX', op[1]!, ...op.slice(3)];
  if (op[0] !== 'SUSER') return op;
  const [now, max, ttl, sessions, devices] = JSON.parse(op[3]!) as [string, string, string, string[], string[]];
  const k = new Keys('g', 1);
  const user = /^g:\{p0\}:u:(.*):sessions$/.exec(op[1]!)![1]!;
  const where = [k.session(0, ''), k.sessionsByLogin(0), k.sessionsByExpiry(0), user];
  return ['SUSER', op[1]!, op[2]!, ...where, now, max, ttl, op[4]!, String(sessions.length), ...sessions, ...devices];
}

describe('session identities and their commit commands (golden)', () => {
  const ids = EVENTS.map((e) => buildIdentity(e, SETTINGS)!);
  it('identity JSON', () => {
    expect(ids.map((s) => JSON.stringify(s))).toEqual(golden.identities);
  });
  it('SPUT / SIDX / SUSER commands', () => {
    const r = sessionPutOps(new Keys('g', 1), ids, PUT);
    expect(r.ops).toEqual(golden.ops.map(flatSuser));
    expect(golden.ops.some((op) => op[0] === 'SUSER')).toBe(true);
    expect({ users: r.users, skipped: r.skipped, part: r.part }).toEqual({ users: golden.users, skipped: golden.skipped, part: golden.part });
    // Every identity is stored; one expired on the wall clock as session_hijack's baseline only (no index, no SUSER).
    expect(r.live).toEqual(ids);
    expect([...(r.unlisted ?? [])]).toEqual(ids.filter((s: SessionIdentity) => s.expires_at <= PUT.now));
  });
  it('identities of two partitions in one commit: refused', () => {
    const k = new Keys('g', 64);
    const a = ids[0]!;
    const other = Array.from({ length: 100 }, (_, i) => `u${i}`).find((u) => k.partitionOf(u) !== k.partitionOf(a.user))!;
    const b = { ...a, user: other };
    expect(() => sessionPutOps(k, [a, b], PUT)).toThrow(/several partitions/);
  });
  it('login and expiry times as text: String(ms) for any time (the fast path included)', () => {
    const k = new Keys('g', 1);
    const time = fc.oneof(fc.integer({ min: 1e9, max: 1e15 }), fc.integer({ min: -1e15, max: 2 ** 52 }), fc.double({ min: -1e15, max: 4e15, noNaN: true }));
    fc.assert(
      fc.property(time, time, (login, exp) => {
        const s = { ...ids[0]!, login_at: login, expires_at: exp };
        const r = sessionPutOps(k, [s], { ...PUT, now: Math.min(exp, login) - 1 });
        expect(r.ops[0]![5]).toBe(String(login));
        expect(r.ops[2]!.slice(2)).toEqual([String(exp), s.session_id]);
      }),
      { numRuns: 5000 },
    );
  });
});
