/** Rendezvous assignment and membership liveness (pure, frozen clock), and the engine's key names. */
import { describe, expect, it } from 'vitest';
import { assign, liveMembers, ownerOf } from '../../src/engine/assignment.js';
import { leaseToken, membersKey, parseLeaseToken, partitionResource, resourceKeys, routerResource } from '../../src/engine/lease-keys.js';

const PARTITIONS = Array.from({ length: 64 }, (_, n) => partitionResource(n));
const RESOURCES = [...PARTITIONS, routerResource('rs:login'), routerResource('rs:activity')];

function shares(owners: Map<string, string | undefined>): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of owners.values()) if (o) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

describe('assign (rendezvous hashing)', () => {
  it('gives everything to a single member and nothing without members', () => {
    expect([...assign(RESOURCES, ['w-1']).values()].every((o) => o === 'w-1')).toBe(true);
    expect([...assign(RESOURCES, []).values()].every((o) => o === undefined)).toBe(true);
    expect(ownerOf('p0', [])).toBeUndefined();
  });

  it('is the same whatever the order (or duplicates) of the members', () => {
    const a = assign(RESOURCES, ['w-1', 'w-2', 'w-3']);
    expect(assign(RESOURCES, ['w-3', 'w-1', 'w-2', 'w-1'])).toEqual(a);
    expect(new Set(a.values())).toEqual(new Set(['w-1', 'w-2', 'w-3']));
  });

  // Pinned: the weight function must not change between versions (assign's bounded loads changed
  // on 2026-12-03: docs/operations.md says to stop the earlier workers first).
  it.each([
    ['p0', 'w-a'],
    ['p1', 'w-c'],
    ['p2', 'w-a'],
    ['p3', 'w-c'],
    ['r:rs:login', 'w-a'],
  ])('%s → %s among w-a, w-b, w-c (stable across versions)', (resource, owner) => {
    expect(ownerOf(resource, ['w-a', 'w-b', 'w-c'])).toBe(owner);
  });

  it.each([2, 3, 4, 5, 7, 8])('gives no member more than its share of 64 partitions (%i members; pure rendezvous gave 22 + 42 of two)', (n) => {
    const members = Array.from({ length: n }, (_, i) => `w${i + 1}`);
    const a = assign(RESOURCES, members);
    const s = shares(new Map([...a].filter(([r]) => r.startsWith('p'))));
    expect(s.size).toBe(n);
    for (const k of s.values()) expect(k).toBeLessThanOrEqual(Math.ceil(64 / n));
    // The routers are balanced apart: two members, one router each.
    if (n === 2) expect(new Set([a.get(routerResource('rs:login')), a.get(routerResource('rs:activity'))]).size).toBe(2);
  });

  it('moves about the joining member’s share, mostly to it, and about what the leaving member held', () => {
    const before = assign(RESOURCES, ['w-1', 'w-2', 'w-3']);
    const joined = assign(RESOURCES, ['w-1', 'w-2', 'w-3', 'w-4']);
    const moved = RESOURCES.filter((r) => before.get(r) !== joined.get(r));
    const toNew = moved.filter((r) => joined.get(r) === 'w-4').length;
    expect(toNew).toBe(shares(joined).get('w-4'));
    expect(moved.length).toBeLessThanOrEqual(Math.ceil(1.3 * toNew));

    const left = assign(RESOURCES, ['w-1', 'w-3']);
    const movedOnLeave = RESOURCES.filter((r) => before.get(r) !== left.get(r));
    const held = RESOURCES.filter((r) => before.get(r) === 'w-2');
    expect(held.every((r) => movedOnLeave.includes(r))).toBe(true);
    expect(movedOnLeave.length).toBeLessThanOrEqual(Math.ceil(1.3 * held.length));
  });
});

describe('liveMembers (frozen clock)', () => {
  const NOW = 1_000_000;
  const TTL = 10_000;
  it.each([
    { score: NOW, live: true },
    { score: NOW - TTL + 1, live: true },
    { score: NOW - TTL, live: false },
    { score: NOW - 5 * TTL, live: false },
    { score: NOW + 500, live: true }, // a worker whose heartbeat is a little ahead
  ])('a member scored $score (now 1000000, ttl 10 s) is live: $live', ({ score, live }) => {
    expect(liveMembers([['w-x', score]], NOW, TTL)).toEqual(live ? ['w-x'] : []);
  });

  it('returns the live members sorted', () => {
    expect(
      liveMembers(
        [
          ['w-b', NOW],
          ['w-a', NOW - 1],
          ['w-dead', NOW - TTL - 1],
        ],
        NOW,
        TTL,
      ),
    ).toEqual(['w-a', 'w-b']);
  });
});

describe('engine key names and tokens', () => {
  it('puts a resource lease and epoch under one hash tag, escaping braces', () => {
    expect(resourceKeys('rs', partitionResource(7))).toEqual({ lease: 'rs:{p7}:lease', epoch: 'rs:{p7}:epoch' });
    expect(resourceKeys('rs', routerResource('riskstream:login'))).toEqual({
      lease: 'rs:{r:riskstream:login}:lease',
      epoch: 'rs:{r:riskstream:login}:epoch',
    });
    const odd = resourceKeys('rs', routerResource('a{b}c'));
    expect(odd.lease).not.toContain('{b}');
    expect(odd.lease.match(/[{}]/g)).toEqual(['{', '}']);
    expect(membersKey('rs')).toBe('rs:engine:members');
  });

  it('splits a token at its last #', () => {
    expect(parseLeaseToken(leaseToken('host#1-0', 42))).toEqual({ workerId: 'host#1-0', epoch: 42 });
    expect(parseLeaseToken('no-epoch')).toBeUndefined();
  });
});
