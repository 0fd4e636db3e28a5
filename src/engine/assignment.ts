/**
 * Who owns what: rendezvous (highest-random-weight) hashing of each resource over the live
 * members. Pure and deterministic — every worker computes the same answer from the same
 * membership, and a member joining or leaving moves only the resources it wins or held.
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

/** Every resource's owner among `members` (a resource maps to undefined when there is no member). */
export function assign(resources: readonly string[], members: readonly string[]): Map<string, string | undefined> {
  const sorted = [...new Set(members)].sort();
  return new Map(resources.map((r) => [r, ownerOf(r, sorted)]));
}

/** The live members, sorted: those whose last heartbeat is within `ttlMs` of `now` (same clock as the scores). */
export function liveMembers(scores: ReadonlyArray<readonly [member: string, score: number]>, now: number, ttlMs: number): string[] {
  return scores
    .filter(([, s]) => s > now - ttlMs)
    .map(([m]) => m)
    .sort();
}
