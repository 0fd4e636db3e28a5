import { RiskstreamError } from '../errors.js';

/** A position in a sorted set walked in reverse (score desc, then member desc by bytes). */
export interface CursorPos {
  score: number;
  member: string;
}

/** Encodes a position as an opaque URL-safe cursor. */
export function encodeCursor(pos: CursorPos): string {
  return Buffer.from(JSON.stringify([pos.score, pos.member]), 'utf8').toString('base64url');
}

/** Decodes a cursor; BAD_REQUEST when it was not made by {@link encodeCursor}. */
export function decodeCursor(cursor: string): CursorPos {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { score: v[0], member: v[1] };
    }
  } catch {
    // fall through
  }
  throw new RiskstreamError('BAD_REQUEST', 'invalid cursor');
}

/** True when `pos` comes after `cursor` in reverse order (i.e. was not on an earlier page). */
export function isAfterCursor(pos: CursorPos, cursor: CursorPos): boolean {
  if (pos.score !== cursor.score) return pos.score < cursor.score;
  return Buffer.compare(Buffer.from(pos.member, 'utf8'), Buffer.from(cursor.member, 'utf8')) < 0;
}
