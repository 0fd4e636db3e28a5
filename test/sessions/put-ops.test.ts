import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { buildIdentity, type SessionIdentity } from '../../src/sessions/identity.js';
import { sessionPutOps } from '../../src/sessions/put-ops.js';
import { EVENTS, PUT, SETTINGS } from './golden/input.js';

/**
 * Byte-for-byte: the identities' JSON and the commit commands for fixed logins, as recorded
 * (golden/put-ops.json, written by the implementation before the performance work of issue 16).
 */
const golden = JSON.parse(readFileSync(new URL('./golden/put-ops.json', import.meta.url), 'utf8')) as {
  identities: string[];
  ops: string[][];
  users: string[];
  skipped: number;
  part: number;
};

describe('session identities and their commit commands (golden)', () => {
  const ids = EVENTS.map((e) => buildIdentity(e, SETTINGS)!);
  it('identity JSON', () => {
    expect(ids.map((s) => JSON.stringify(s))).toEqual(golden.identities);
  });
  it('SPUT / ZADD / SUSER commands', () => {
    const r = sessionPutOps(new Keys('g', 1), ids, PUT);
    expect(r.ops).toEqual(golden.ops);
    expect({ users: r.users, skipped: r.skipped, part: r.part }).toEqual({ users: golden.users, skipped: golden.skipped, part: golden.part });
    expect(r.live).toEqual(ids.filter((s: SessionIdentity) => s.expires_at > PUT.now));
  });
  it('identities of two partitions in one commit: refused', () => {
    const k = new Keys('g', 64);
    const a = ids[0]!;
    const other = Array.from({ length: 100 }, (_, i) => `u${i}`).find((u) => k.partitionOf(u) !== k.partitionOf(a.user))!;
    const b = { ...a, user: other };
    expect(() => sessionPutOps(k, [a, b], PUT)).toThrow(/several partitions/);
  });
});
