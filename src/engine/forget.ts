import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { decodeState } from '../risk/state-codec.js';
import { idleVerdict, type Retention } from '../risk/retention.js';
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
}

/**
 * The idle users' sweep of an owner's partitions: the users listed in each partition's idle index
 * since at least the TTL before its watermark (at most `limit` each), judged by
 * {@link idleVerdict} on their current state. One forgettable and without risk events or outbox
 * entries (evidence and work to relay are kept) is forgotten in the partition's next commit — a
 * state the user's next item would start over from anyway (src/risk/retention.ts
 * `unlessIdle`), so no run, with a crash or without, applies anything differently. The others leave
 * the index (kept) or move in it (not idle yet). A few round trips per sweep, none per event.
 * Returns how many users were forgotten.
 */
export async function forgetIdle(redis: RedisClient, keys: Keys, r: Retention, limit: number, hooks: ForgetHooks): Promise<number> {
  const parts = hooks.partitions().filter((p) => hooks.watermark(p) - r.ttl > 0);
  if (!parts.length) return 0;
  const wm = new Map(parts.map((p) => [p, hooks.watermark(p)]));
  const pipe = pipeline(redis);
  for (const p of parts) pipe.zrangebyscore(keys.usersIdle(p), '-inf', wm.get(p)! - r.ttl, 'LIMIT', 0, limit);
  const due = ((await pipe.exec()) ?? []).flatMap(([err, us], i) => (err ? [] : (us as string[]).map((u) => [u, parts[i]!] as const)));
  if (!due.length) return 0;
  // States not in memory: read, one HGET each in one pipeline.
  const unread = due.filter(([u, p]) => !hooks.current(u, p));
  const readPipe = pipeline(redis);
  for (const [u] of unread) readPipe.hgetBuffer(keys.userState(u), u);
  const read = new Map<string, UserState | null>();
  ((await readPipe.exec()) ?? []).forEach(([err, b], i) => err || read.set(unread[i]![0], decodeState(b as Buffer | null, unread[i]![0])));
  const fix = pipeline(redis);
  const candidates: Array<[string, number]> = [];
  for (const [u, p] of due) {
    const state = hooks.current(u, p) ?? read.get(u);
    if (!state && !read.has(u)) continue; // not read (an error): looked at next time
    // No state stored (a stale entry) or no candidate any more: out of the index.
    const v = state ? idleVerdict(state, wm.get(p)!, r.ttl, r.learners) : ({ kind: 'keep' } as const);
    if (v.kind === 'forget') candidates.push([u, p]);
    else if (!hooks.owns(p)) continue;
    else if (v.kind === 'later') fix.zadd(keys.usersIdle(p), 'GT', v.score, u);
    else fix.zrem(keys.usersIdle(p), u);
  }
  // Risk events (evidence) or outbox entries (work to relay): kept, out of the index.
  for (const [u] of candidates) fix.exists(keys.userEvents(u), keys.userOutbox(u));
  const fixed = (await fix.exec()) ?? [];
  const held = fixed.slice(fixed.length - candidates.length);
  const drop = pipeline(redis);
  let n = 0;
  candidates.forEach(([u, p], i) => {
    const [err, count] = held[i] ?? [];
    if (err || !hooks.owns(p)) return;
    if (Number(count) > 0) return void drop.zrem(keys.usersIdle(p), u);
    hooks.forget(p, u);
    n++;
  });
  if (drop.length) await drop.exec();
  return n;
}
