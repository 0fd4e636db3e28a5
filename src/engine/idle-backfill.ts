/**
 * The idle index's backfill: users whose states were committed before the idle index existed (an
 * upgraded deployment), or whose index member is otherwise missing, are never forgotten — the
 * sweep (src/engine/forget.ts) only looks at listed users. The partition's owner walks the
 * partition's state hash once, a chunk per sweep (HSCAN), and lists each candidate as a commit
 * would ({@link idleScore}), unless listed already (ZADD NX: a score the commit or the sweep wrote
 * stays). The chunk and the cursor after it go into the partition's next commit — atomic and
 * lease-fenced: an owner that lost its lease writes neither, and the next owner resumes from the
 * cursor Redis holds. A finished pass is remembered (per {@link IDLE_INDEX_SCHEMA}) and not redone.
 *
 * The index is only where the sweep looks: it judges every listed user again on its state, and
 * applying treats a user idle past the TTL as new whether or not it was forgotten
 * (src/risk/retention.ts `unlessIdle`), so a backfill changes no result, only what Redis keeps.
 */
import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { decodeState } from '../risk/state-codec.js';
import { idleScore } from '../risk/retention.js';
import { markOnly } from '../risk/state.js';
import type { ForgetHooks } from './forget.js';

/** The idle index's schema: raise it when {@link idleScore}'s rule changes, and every partition's pass runs again. */
export const IDLE_INDEX_SCHEMA = 1;

/** The field of the partition's position hash holding its pass's progress ({@link formatProgress}). */
export const BACKFILL_FIELD = 'idle-backfill';

/** A partition's pass: the state hash's cursor (`done` once finished), users scanned and listed so far. */
export interface BackfillProgress {
  cursor: string;
  scanned: number;
  listed: number;
}

/** One chunk of a partition's pass, written by the partition's next commit (src/engine/commit-index.ts `fillOps`). */
export interface IdleFill {
  /** The candidates scanned, with their idle scores: listed unless listed already. */
  adds: Array<[user: string, score: number]>;
  /** The progress after this chunk. */
  progress: BackfillProgress;
}

/** The stored value: `schema:cursor:scanned:listed`. */
export function formatProgress(p: BackfillProgress): string {
  return `${IDLE_INDEX_SCHEMA}:${p.cursor}:${p.scanned}:${p.listed}`;
}

/** The progress stored (`v`); a new pass's when none is, or one of another schema or unreadable. */
export function parseProgress(v: string | null | undefined): BackfillProgress {
  const [schema, cursor, scanned, listed] = (v ?? '').split(':');
  if (schema !== String(IDLE_INDEX_SCHEMA) || !cursor || !/^(\d+|done)$/.test(cursor)) return { cursor: '0', scanned: 0, listed: 0 };
  return { cursor, scanned: Number(scanned) || 0, listed: Number(listed) || 0 };
}

/** What {@link backfillIdle} needs from the owner, and tells it (`partitions`: those whose pass is not known finished). */
export interface BackfillHooks extends Pick<ForgetHooks, 'partitions' | 'owns' | 'current'> {
  /** True while a chunk of the partition's is in a commit not landed yet (the cursor in Redis is behind it). */
  pending(partition: number): boolean;
  /** True for a user an uncommitted or in-flight commit forgets. */
  forgetting(user: string, partition: number): boolean;
  /** The chunk goes into the partition's next commit. */
  fill(partition: number, chunk: IdleFill): void;
  /** The partition's pass is finished (stored, or in the chunk just given). */
  finished(partition: number): void;
}

/**
 * One chunk of each partition's pass (HSCAN COUNT `limit` from the stored cursor), judged on the
 * user's state in memory, else the one scanned. Two round trips for all partitions; none once
 * every pass is known finished. Returns how many partitions were given a chunk.
 */
export async function backfillIdle(redis: RedisClient, keys: Keys, limit: number, hooks: BackfillHooks): Promise<number> {
  const parts = hooks.partitions().filter((p) => !hooks.pending(p));
  if (!parts.length) return 0;
  const read = pipeline(redis);
  for (const p of parts) read.hget(keys.partitionPos(p), BACKFILL_FIELD);
  const stored = (await read.exec()) ?? [];
  const scanning: Array<[number, BackfillProgress]> = [];
  parts.forEach((p, i) => {
    const [err, v] = stored[i] ?? [];
    if (err) return; // looked at next time
    const at = parseProgress(v as string | null);
    if (at.cursor === 'done') hooks.finished(p);
    else scanning.push([p, at]);
  });
  if (!scanning.length) return 0;
  const scan = pipeline(redis);
  for (const [p, at] of scanning) scan.hscanBuffer(keys.partitionState(p), at.cursor, 'COUNT', limit);
  const res = (await scan.exec()) ?? [];
  let n = 0;
  scanning.forEach(([p, at], i) => {
    const [err, r] = res[i] ?? [];
    if (err || !hooks.owns(p)) return;
    const [next, flat] = r as [Buffer, Buffer[]];
    const adds: Array<[string, number]> = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const user = flat[j]!.toString();
      if (hooks.forgetting(user, p)) continue;
      const state = hooks.current(user, p) ?? decodeState(flat[j + 1], user);
      const score = state && !markOnly(state) ? idleScore(state) : null;
      if (score !== null) adds.push([user, score]);
    }
    const cursor = next.toString();
    const progress = { cursor: cursor === '0' ? 'done' : cursor, scanned: at.scanned + (flat.length >> 1), listed: at.listed + adds.length };
    hooks.fill(p, { adds, progress });
    if (progress.cursor === 'done') hooks.finished(p);
    n++;
  });
  return n;
}
