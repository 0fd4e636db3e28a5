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
 * A scan cursor means something only to the Redis process that produced it: after a restart (a new
 * hash seed), a failover (the replica's own table) or a slot migration (the target built its own),
 * resuming it would skip an arbitrary set of users, and the pass end without them. So the progress
 * holds the `run_id` of the node that produced the cursor, read in the same script as the scan
 * (src/redis/scripts/idle-scan-1.lua: on a cluster the node serving the partition's slot), and the
 * pass starts again from 0 on any other node (listing again is harmless: ZADD NX).
 *
 * The index is only where the sweep looks: it judges every listed user again on its state, and
 * applying treats a user idle past the TTL as new whether or not it was forgotten
 * (src/risk/retention.ts `unlessIdle`), so a backfill changes no result, only what Redis keeps.
 */
import { pipeline, type RedisClient } from '../redis/client.js';
import { defineScripts, queueScriptBuffer } from '../redis/scripts.js';
import type { Keys } from '../keys.js';
import { decodeState } from '../risk/state-codec.js';
import { idleScore } from '../risk/retention.js';
import { markOnly } from '../risk/state.js';
import type { ForgetHooks } from './forget.js';

/** The idle index's schema: raise it when {@link idleScore}'s rule changes, and every partition's pass runs again. */
export const IDLE_INDEX_SCHEMA = 2;

/** The field of the partition's position hash holding its pass's progress ({@link formatProgress}). */
export const BACKFILL_FIELD = 'idle-backfill';

/**
 * A partition's pass: the state hash's cursor (`done` once finished), users scanned so far, the
 * candidates among them (sent with ZADD NX: those listed already count too), and the `run_id` of
 * the Redis process that produced the cursor (`''`: unknown, a value stored before it was kept).
 */
export interface BackfillProgress {
  cursor: string;
  scanned: number;
  candidates: number;
  node: string;
}

/** One chunk of a partition's pass, written by the partition's next commit (src/engine/commit-index.ts `fillOps`). */
export interface IdleFill {
  /** The candidates scanned, with their idle scores: listed unless listed already. */
  adds: Array<[user: string, score: number]>;
  /** The progress after this chunk. */
  progress: BackfillProgress;
}

/** The stored value: `schema:cursor:scanned:candidates:node`. */
export function formatProgress(p: BackfillProgress): string {
  return `${IDLE_INDEX_SCHEMA}:${p.cursor}:${p.scanned}:${p.candidates}:${p.node}`;
}

/**
 * The progress stored (`v`); a new pass's when none is, or one of another schema or unreadable. A
 * value of four fields (stored before the node was kept) has an unknown node: its cursor is not
 * resumed, its `done` is kept.
 */
export function parseProgress(v: string | null | undefined): BackfillProgress {
  const [schema, cursor, scanned, candidates, node] = (v ?? '').split(':');
  if (schema !== String(IDLE_INDEX_SCHEMA) || !cursor || !/^(\d+|done)$/.test(cursor)) return { cursor: '0', scanned: 0, candidates: 0, node: '' };
  return { cursor, scanned: Number(scanned) || 0, candidates: Number(candidates) || 0, node: node ?? '' };
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
 * One chunk of each partition's pass (HSCAN COUNT `limit` from the stored cursor, or from 0 when
 * another node produced it), judged on the user's state in memory, else the one scanned. Two round
 * trips for all partitions; none once every pass is known finished. Returns how many partitions
 * were given a chunk.
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
  defineScripts(redis);
  const scan = pipeline(redis);
  for (const [p, at] of scanning) queueScriptBuffer(scan, 'idleScan', keys.partitionState(p), at.node, at.cursor, String(limit));
  const res = (await scan.exec()) ?? [];
  let n = 0;
  scanning.forEach(([p, at], i) => {
    const [err, r] = res[i] ?? [];
    if (err || !hooks.owns(p)) return;
    const [node, used, next, flat] = r as [Buffer, Buffer, Buffer, Buffer[]];
    const from = used.toString() === at.cursor ? at : { scanned: 0, candidates: 0 }; // another node: the pass starts again
    const adds: Array<[string, number]> = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const user = flat[j]!.toString();
      if (hooks.forgetting(user, p)) continue;
      const state = hooks.current(user, p) ?? decodeState(flat[j + 1], user);
      const score = state && !markOnly(state) ? idleScore(state) : null;
      if (score !== null) adds.push([user, score]);
    }
    const cursor = next.toString();
    const progress = {
      cursor: cursor === '0' ? 'done' : cursor,
      scanned: from.scanned + (flat.length >> 1),
      candidates: from.candidates + adds.length,
      node: node.toString(),
    };
    hooks.fill(p, { adds, progress });
    if (progress.cursor === 'done') hooks.finished(p);
    n++;
  });
  return n;
}
