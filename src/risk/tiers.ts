import { levelRank, type ActiveBehavior, type RiskLevel } from '../types.js';

/** One level of an active behavior and when it stops counting (null: never). */
export interface Tier {
  level: RiskLevel;
  expiresAt: number | null;
}

/** A behavior's tiers, highest level first: its level now, then the lower ones that outlast it. */
export function tiersOf(b: ActiveBehavior): Tier[] {
  const head: Tier = { level: b.level, expiresAt: b.expiresAt };
  return b.lower?.length ? [head, ...b.lower] : [head];
}

/** Later of two expiries (null, never, is the latest). */
const later = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.max(a, b));

/**
 * The tiers a behavior holds after its hits so far: per level the latest expiry of its hits, and
 * only the levels that outlast every higher one (a lower hit expiring before a higher one never
 * shows), highest first. So a hit of a lower level never prolongs a higher one: each level falls
 * off when its own last hit expires, and the behavior then counts at the next level still held.
 */
export function mergeTiers(tiers: readonly Tier[]): Tier[] {
  const byLevel = new Map<RiskLevel, number | null>();
  for (const t of tiers) byLevel.set(t.level, byLevel.has(t.level) ? later(byLevel.get(t.level)!, t.expiresAt) : t.expiresAt);
  const out: Tier[] = [];
  let until: number | null | undefined; // the latest expiry among the higher tiers kept (undefined: none yet)
  for (const [level, expiresAt] of [...byLevel].sort(([a], [b]) => levelRank(b) - levelRank(a))) {
    if (until === null) break; // a higher level never expires: nothing below ever shows
    if (until !== undefined && expiresAt !== null && expiresAt <= until) continue;
    out.push({ level, expiresAt });
    until = expiresAt;
  }
  return out;
}

/** `b` with its tiers (highest first, non-empty) as level, expiry and the lower ones. */
export function withTiers(b: ActiveBehavior, tiers: readonly Tier[]): ActiveBehavior {
  const { lower: _, ...rest } = b;
  const [head, ...below] = tiers;
  return below.length ? { ...rest, level: head!.level, expiresAt: head!.expiresAt, lower: below } : { ...rest, level: head!.level, expiresAt: head!.expiresAt };
}
