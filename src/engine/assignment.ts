/**
 * Who owns what: rendezvous (highest-random-weight) hashing of each resource over the live
 * members, with bounded loads — no member gets more than its fair share (⌈n / members⌉ of each
 * kind of resource: partitions, routers), so 64 partitions over two workers are 32 + 32, not
 * whatever the hash gives (22 + 42 was seen). Pure and deterministic: every worker computes the
 * same answer from the same membership; a member joining or leaving moves about its share.
 */
import { createHash } from 'node:crypto';

/** The weight of (resource, member): the first 48 bits of SHA-256(resource NUL member). */
export function weight(resource: string, member: string): number {
  return createHash('sha256').update(resource).update('\0').update(member).digest().readUIntBE(0, 6);
}

/** The owner of `resource` among `members` (highest weight; ties by the smaller member id); undefined when none. */
export function ownerOf(resource: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = weight(resource, m);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** A resource's kind, balanced on its own: partitions `p<n>`, routers `r:<stream>`. */
const kindOf = (resource: string): string => (resource.startsWith('r:') ? 'r' : resource.startsWith('p') ? 'p' : resource);

/**
 * Every resource's owner among `members` (a resource maps to undefined when there is no member):
 * of each kind, (resource, member) pairs are taken by weight, highest first, each resource by the
 * first member of the pair still under ⌈resources / members⌉ (ties: the smaller resource, then
 * member id).
 */
export function assign(resources: readonly string[], members: readonly string[]): Map<string, string | undefined> {
  const sorted = [...new Set(members)].sort();
  // Every heartbeat asks again, mostly for the same membership: the last answer is kept (a copy given out).
  const key = `${resources.join('\0')}\u0001${sorted.join('\0')}`;
  if (last?.key === key) return new Map(last.owners);
  const owners = balanced(resources, sorted);
  last = { key, owners };
  return new Map(owners);
}

let last: { key: string; owners: Map<string, string | undefined> } | undefined;

function balanced(resources: readonly string[], sorted: readonly string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>(resources.map((r) => [r, undefined]));
  if (!sorted.length) return out;
  const kinds = new Map<string, string[]>();
  for (const r of new Set(resources)) {
    const k = kindOf(r);
    const list = kinds.get(k);
    if (list) list.push(r);
    else kinds.set(k, [r]);
  }
  for (const list of kinds.values()) {
    const cap = Math.ceil(list.length / sorted.length);
    const pairs: Array<{ r: string; m: string; w: number }> = [];
    for (const r of list) for (const m of sorted) pairs.push({ r, m, w: weight(r, m) });
    pairs.sort((a, b) => b.w - a.w || (a.r < b.r ? -1 : a.r > b.r ? 1 : a.m < b.m ? -1 : 1));
    const load = new Map<string, number>();
    for (const { r, m } of pairs) {
      if (out.get(r) !== undefined || (load.get(m) ?? 0) >= cap) continue;
      out.set(r, m);
      load.set(m, (load.get(m) ?? 0) + 1);
    }
  }
  return out;
}

/** The live members, sorted: those whose last heartbeat is within `ttlMs` of `now` (same clock as the scores). */
export function liveMembers(scores: ReadonlyArray<readonly [member: string, score: number]>, now: number, ttlMs: number): string[] {
  return scores
    .filter(([, s]) => s > now - ttlMs)
    .map(([m]) => m)
    .sort();
}
