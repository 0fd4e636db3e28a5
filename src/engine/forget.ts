import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { decodeState } from '../risk/state-codec.js';
import { eventsDueScore, IDLE_BUCKET_MS, idleVerdict, relistScore, type Retention } from '../risk/retention.js';
import type { UserState } from '../risk/state.js';

/** What {@link forgetIdle} needs from the owner, and tells it. */
export interface ForgetHooks {
  /** Owned partitions ready to sweep (their positions loaded). */
  partitions(): number[];
  owns(partition: number): boolean;
  /** The partition's watermark: the arrival (event time) of its last applied item. */
  watermark(partition: number): number;
  /** A user's state in memory (uncommitted, in flight or cached), if any. */
  current(user: string, partition: number): UserState | undefined;
  /** Forget `user`: its deletion goes into the partition's next commit. */
  forget(partition: number, user: string): void;
  /** Delete the risk events of `user` (a level changed: its state kept) in the partition's next commit. */
  prune(partition: number, user: string): void;
  /** Fix `user`'s idle index entry in the partition's next commit: move it to `score` (ZADD GT), or take it out (null). */
  fix(partition: number, user: string, score: number | null): void;
}

/** What one idle sweep did: users forgotten, index entries fixed (both in the partitions' next commits). */
export interface IdleSweep {
  forgotten: number;
  fixed: number;
}

/**
 * The idle users' sweep of an owner's partitions: the users listed in each partition's idle index
 * since at least the TTL before its watermark (at most `limit` each), judged by
 * {@link idleVerdict} on their current state. One forgettable and without outbox entries (work to
 * relay is kept, listed again an hour of input time later) is forgotten in the partition's next
 * commit, its risk events (evidence) with it once they are past the risk-event retention
 * (`r.events`; kept for good without one, listed again a TTL later); one whose level changed only
 * loses its risk events past that retention (`prune`: its version orders SETs) — a
 * state the user's next item would start over from anyway (src/risk/retention.ts
 * `unlessIdle`), so no run, with a crash or without, applies anything differently. The others leave
 * the index (kept) or move in it (not idle yet), in the same commit — lease-fenced, like every write
 * of the partition's: an owner that lost its lease (and does not know yet) changes nothing. Reads
 * only: a few round trips per sweep, none per event. Returns how many users were forgotten and
 * how many index entries were fixed.
 */
export async function forgetIdle(redis: RedisClient, keys: Keys, r: Retention, limit: number, hooks: ForgetHooks): Promise<IdleSweep> {
  const parts = hooks.partitions().filter((p) => hooks.watermark(p) - r.ttl > 0);
  const none = { forgotten: 0, fixed: 0 };
  if (!parts.length) return none;
  const wm = new Map(parts.map((p) => [p, hooks.watermark(p)]));
  const pipe = pipeline(redis);
  for (const p of parts) pipe.zrangebyscore(keys.usersIdle(p), '-inf', wm.get(p)! - r.ttl, 'LIMIT', 0, limit);
  const due = ((await pipe.exec()) ?? []).flatMap(([err, us], i) => (err ? [] : (us as string[]).map((u) => [u, parts[i]!] as const)));
  if (!due.length) return none;
  // States not in memory: read, one HGET each in one pipeline.
  const unread = due.filter(([u, p]) => !hooks.current(u, p));
  const readPipe = pipeline(redis);
  for (const [u] of unread) readPipe.hgetBuffer(keys.userState(u), u);
  const read = new Map<string, UserState | null>();
  ((await readPipe.exec()) ?? []).forEach(([err, b], i) => err || read.set(unread[i]![0], decodeState(b as Buffer | null, unread[i]![0])));
  const candidates: Array<[string, number, UserState, 'forget' | 'prune']> = [];
  let fixed = 0;
  const fix = (p: number, u: string, score: number | null): void => {
    if (!hooks.owns(p)) return;
    hooks.fix(p, u, score);
    fixed++;
  };
  for (const [u, p] of due) {
    const state = hooks.current(u, p) ?? read.get(u);
    if (!state && !read.has(u)) continue; // not read (an error): looked at next time
    // No state stored (a stale entry) or no candidate any more: out of the index.
    const v = state ? idleVerdict(state, wm.get(p)!, r.ttl, r.learners, r.events) : ({ kind: 'keep' } as const);
    if (v.kind === 'forget' || v.kind === 'prune') candidates.push([u, p, state!, v.kind]);
    else fix(p, u, v.kind === 'later' ? v.score : null);
  }
  if (!candidates.length) return { forgotten: 0, fixed };
  // Outbox entries (work to relay): kept, listed again later. Risk events (evidence): kept for good
  // without a risk-event retention, else until the user's newest time lies that far behind — then
  // forgotten with them (the commit deletes its stream), till then listed again for that moment.
  const held = pipeline(redis);
  for (const [u] of candidates) held.exists(keys.userOutbox(u)).exists(keys.userEvents(u));
  const counts = (await held.exec()) ?? [];
  let forgotten = 0;
  candidates.forEach(([u, p, state, kind], i) => {
    const [errOut, outbox] = counts[2 * i] ?? [];
    const [errEv, events] = counts[2 * i + 1] ?? [];
    if (errOut || errEv || !hooks.owns(p)) return;
    // Its state stays: what its outbox holds does not matter.
    if (kind === 'prune') {
      if (Number(events) > 0) hooks.prune(p, u);
      return fix(p, u, null); // a later commit of the user lists it again
    }
    // Work to relay: kept for now, listed again an hour of input time later (never out of the index for good).
    if (Number(outbox) > 0) return fix(p, u, Math.ceil((wm.get(p)! - r.ttl) / IDLE_BUCKET_MS) * IDLE_BUCKET_MS + IDLE_BUCKET_MS);
    if (Number(events) > 0) {
      // Kept for good without a retention, yet listed: one turned on later reaches it.
      if (r.events === undefined) return fix(p, u, relistScore(wm.get(p)!));
      // Judged as the TTL is, the retention for the TTL (a later score listed what it adds later).
      const v = idleVerdict(state, wm.get(p)!, r.events, r.learners, r.events);
      if (v.kind !== 'forget') return fix(p, u, v.kind === 'later' ? eventsDueScore(v.score, r) : null);
    }
    hooks.forget(p, u);
    forgotten++;
  });
  return { forgotten, fixed };
}
