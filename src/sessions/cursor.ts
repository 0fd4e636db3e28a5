import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import { scriptsOn } from '../redis/scripts.js';

/**
 * A position in a sorted set walked in reverse (score desc, then member desc by bytes), or in
 * several merged (then, for one member in several sets at one score, the set's index ascending).
 */
export interface CursorPos {
  score: number;
  member: string;
  /** The set's index when merged ({@link zrevAfterMerged}): tells apart one member in several sets. */
  shard?: number;
}

/** Encodes a position as an opaque URL-safe cursor. */
export function encodeCursor(pos: CursorPos): string {
  const v = pos.shard === undefined ? [pos.score, pos.member] : [pos.score, pos.member, pos.shard];
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}

/** Decodes a cursor; BAD_REQUEST when it was not made by {@link encodeCursor}. */
export function decodeCursor(cursor: string): CursorPos {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && (v.length === 2 || v.length === 3) && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      if (v.length === 2) return { score: v[0], member: v[1] };
      if (Number.isSafeInteger(v[2]) && (v[2] as number) >= 0) return { score: v[0], member: v[1], shard: v[2] as number };
    }
  } catch {
    // fall through
  }
  throw new RiskstreamError('BAD_REQUEST', 'invalid cursor');
}

/** Sorted-set members of one score as Redis orders them: by their UTF-8 bytes (not UTF-16 units). */
export function compareMembers(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** True when `pos` comes after `cursor` in reverse order (i.e. was not on an earlier page). */
export function isAfterCursor(pos: CursorPos, cursor: CursorPos): boolean {
  if (pos.score !== cursor.score) return pos.score < cursor.score;
  const c = compareMembers(pos.member, cursor.member);
  if (c !== 0) return c < 0;
  return pos.shard !== undefined && cursor.shard !== undefined && pos.shard > cursor.shard;
}

/**
 * Walks the sorted set `key` from high to low score, scores in [`min`, `top`) (`top` exclusive;
 * none: no upper bound), after the position `after` a previous page ended on — rows tied with
 * its score that came before it are skipped. Yields the positions `chunk` rows at a time (empty
 * chunks are not yielded); stop early by breaking out of the loop. Each read resumes after the
 * last row read, found by rank in one script (zrev-after-1.lua), never at an offset: members added,
 * removed or moved meanwhile make the walk neither repeat nor skip another.
 */
export async function* zrevAfter(
  redis: RedisClient,
  key: string,
  range: { min: string; top?: number },
  after: CursorPos | undefined,
  chunk: number,
  shard?: number,
): AsyncGenerator<CursorPos[]> {
  const top = range.top ?? Infinity;
  const min = range.min === '-inf' ? -Infinity : Number(range.min);
  // From the cursor, or from the top of the range (after every member of score `top`).
  // A later set than the cursor's holds its member at its score after it: from just above it (`member\0`).
  const self = after && shard !== undefined && after.shard !== undefined && shard > after.shard;
  let from: { score: string; member: string } =
    after && after.score < top
      ? { score: String(after.score), member: self ? `${after.member}\u0000` : after.member }
      : { score: Number.isFinite(top) ? String(top) : '', member: '' };
  const scripts = scriptsOn(redis);
  for (;;) {
    const rows = await scripts.zrevAfter(key, from.score, from.member, String(chunk));
    const out: CursorPos[] = [];
    let below = false;
    for (let i = 0; i + 1 < rows.length; i += 2) {
      const pos: CursorPos = shard === undefined ? { score: Number(rows[i + 1]), member: rows[i]! } : { score: Number(rows[i + 1]), member: rows[i]!, shard };
      if (pos.score < min) {
        below = true;
        break;
      }
      if (!after || isAfterCursor(pos, after)) out.push(pos);
    }
    if (out.length) yield out;
    if (below || rows.length / 2 < chunk) return;
    from = { score: rows[rows.length - 1]!, member: rows[rows.length - 2]! };
  }
}

/** A position found by {@link zrevAfterMerged}, with the index of the set it is in. */
export interface ShardPos extends CursorPos {
  shard: number;
}

/**
 * {@link zrevAfter} over several sorted sets at once (one per partition: a member lives in one of
 * them), merged into the same order a single set would give, so a cursor means the same thing
 * whatever the number of shards. Each shard is read lazily, a few rows at a time.
 */
export async function* zrevAfterMerged(
  redis: RedisClient,
  keys: readonly string[],
  range: { min: string; top?: number },
  after: CursorPos | undefined,
  chunk: number,
): AsyncGenerator<ShardPos[]> {
  const per = keys.length === 1 ? chunk : Math.max(16, Math.ceil((2 * chunk) / keys.length));
  const gens = keys.map((k, i) => zrevAfter(redis, k, range, after, per, i));
  const bufs: CursorPos[][] = keys.map(() => []);
  const done = keys.map(() => false);
  const fill = async (i: number): Promise<void> => {
    while (!done[i] && bufs[i]!.length === 0) {
      const r = await gens[i]!.next();
      if (r.done) done[i] = true;
      else bufs[i] = r.value;
    }
  };
  await Promise.all(keys.map((_, i) => fill(i)));
  let out: ShardPos[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < bufs.length; i++) {
      const head = bufs[i]![0];
      if (head && (best < 0 || isAfterCursor(bufs[best]![0]!, head))) best = i;
    }
    if (best < 0) break;
    out.push(bufs[best]!.shift()! as ShardPos);
    if (bufs[best]!.length === 0) await fill(best);
    if (out.length >= chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}
