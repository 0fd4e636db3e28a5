/**
 * The bound policy of every capped per-user (and per-IP) state: which entries a full cap keeps.
 *
 * Keeping just the newest event times would let a skewed source fill the cap with events stamped
 * in the future (ingest accepts up to `ingest.max_future` ahead) and push every real event out as
 * it arrives. So when a cap is full, the entries stamped after `now` (the processing time) hold at
 * most half of it (`floor(cap / 2)`, at least 1) — the nearest ones: those furthest ahead go first —
 * and the rest goes to the newest entries at or before `now`. Under the cap nothing is dropped.
 * Mirrored in src/redis/scripts/ip-logins-n.lua (password_spray's per-IP sets).
 */

/** Most entries stamped after `now` that a full cap of `cap` keeps: `floor(cap / 2)`, at least 1. */
export const futureShare = (cap: number): number => Math.max(1, Math.floor(cap / 2));

/**
 * Which of the entries `[start, end)` of a list sorted by time (ascending; `timeAt(i)` is entry i's
 * time) a cap of `cap` keeps, as the slice `[from, to)`: the whole range when it fits, else the
 * nearest `floor(cap / 2)` (at least 1) stamped after `now` at most, then the newest at or before
 * `now` for the rest. A contiguous slice, as the list is sorted. Pure; O(log n) — call it only when
 * `end - start > cap`, so the common path allocates nothing.
 */
export function keptRange(start: number, end: number, cap: number, now: number, timeAt: (i: number) => number): [from: number, to: number] {
  const room = Math.max(0, cap);
  if (end - start <= room) return [start, end];
  // The first entry stamped after `now` (entries at or before it come first).
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (timeAt(mid) <= now) lo = mid + 1;
    else hi = mid;
  }
  const future = Math.min(end - lo, futureShare(room), room);
  const past = Math.min(lo - start, room - future);
  return [lo - past, lo + future];
}
