import { Packr, Unpackr } from 'msgpackr';
import { IP_FAILURES } from '../detect/password-spray.js';
import { CAPTURED_SESSION, SESSION_REVOKED } from '../detect/captured-session.js';
import { STORED_SESSION } from '../sessions/identity.js';
import type { CanonicalEvent } from '../types.js';
import { parseKey, type OrderKey } from '../partition.js';
import { isRepresentableTime } from '../ingest/time-window.js';

/** An admin request routed in order with the input (applied by the user's partition owner). */
export interface ControlOp {
  /** `reset`: an admin reset; `revoke_sessions`: an admin's revoke-all raising the user's revocation mark. */
  op: 'reset' | 'revoke_sessions';
  /** Request id: the outcome is stored under `Keys.controlResult(req)`. */
  req: string;
  user: string;
  actor: string;
  reason: string;
}

/**
 * One routed item: its source entry and order key (`[ms, seq]`), and an event or a control op.
 * `x` carries what the edge attached to an event under symbols (an IP's failures for
 * password_spray, the captured session for session_hijack), which encoding would drop.
 */
export type RoutedItem =
  { k: [number, number]; s: string; i: string; e: CanonicalEvent; x?: Attachments } | { k: [number, number]; s: string; i: string; c: ControlOp };

type Attached = { [IP_FAILURES]?: unknown; [CAPTURED_SESSION]?: unknown; [STORED_SESSION]?: unknown; [SESSION_REVOKED]?: unknown };

/** The edge's attachments as plain fields: an IP's failures, the captured session, a refreshed session's stored identity, a revoked session. */
export interface Attachments {
  f?: unknown;
  c?: unknown;
  s?: unknown;
  r?: true;
}

/** What the edge attached to an event, as plain fields (undefined when nothing). */
export function attachedOf(event: CanonicalEvent): Attachments | undefined {
  const a = event as Attached;
  const f = a[IP_FAILURES];
  const c = a[CAPTURED_SESSION];
  const s = a[STORED_SESSION];
  const r = a[SESSION_REVOKED] === true;
  if (f === undefined && c === undefined && s === undefined && !r) return undefined;
  const out: Attachments = {};
  if (f !== undefined) out.f = f;
  if (c !== undefined) out.c = c;
  if (s !== undefined) out.s = s;
  if (r) out.r = true;
  return out;
}

/** The field of a partition stream entry holding its routed items. */
export const ROUTED_FIELD = 'b';

/**
 * MessagePack with records: an object shape (an event's, its geo's, its session's …) is described
 * once per entry and its later objects are written as values only. Each entry is self-contained (no
 * structures shared between entries). Half the bytes of JSON, and decoded ≈ 3× faster than
 * `JSON.parse` on the owner's thread. Integers past 32 bits go as float64 (exact to 2^53).
 */
const packr = new Packr({ useRecords: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: true, moreTypes: false });

/** First byte of a JSON entry, as written before MessagePack (`[`): still read, never written. */
const JSON_ARRAY = 0x5b;

/**
 * Encodes a partition entry's items (in order). An event's own fields are kept as they are: a
 * field whose value is `undefined` stays present (as the in-process handoff gives it). Text is
 * UTF-8: a lone surrogate becomes U+FFFD (ingest replaces them in user ids, which route).
 */
export function encodeRouted(items: readonly RoutedItem[]): Buffer {
  return packr.pack(items);
}

/**
 * What makes a decoded item unusable (no order key, no source, neither an event nor a control op
 * with a user), or undefined. The router writes none such; anything else that wrote to a partition
 * stream may have: such an entry is dead-lettered by its owner, not retried for ever.
 */
function itemProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return 'is not an object';
  const it = item as { k?: unknown; s?: unknown; i?: unknown; e?: { user?: unknown } | null; c?: { user?: unknown; op?: unknown } | null };
  const k = it.k;
  if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'number' || typeof k[1] !== 'number') return 'has no order key';
  if (typeof it.s !== 'string' || typeof it.i !== 'string') return 'has no source entry';
  // The engine tells them apart by `'e' in` here, by `'c' in` there: never both.
  if ('e' in it && 'c' in it) return 'holds both an event and a control op';
  const body = 'e' in it ? it.e : it.c;
  if (typeof body !== 'object' || body === null || typeof body.user !== 'string') return 'holds neither an event nor a control op of a user';
  if (!('e' in it)) return controlProblem(body as Record<string, unknown>);
  // Validated at the edge: a time no `Date` holds (risk events and audit entries print it) was not routed.
  const time = (body as { time?: unknown }).time;
  return typeof time === 'number' && isRepresentableTime(time) ? undefined : 'holds an event without a time';
}

/** What makes a routed control op unusable (an unknown op, a request id, actor or reason that is no text), or undefined. */
function controlProblem(c: Record<string, unknown>): string | undefined {
  if (c.op !== 'reset' && c.op !== 'revoke_sessions') return 'holds a control op of no known kind';
  if (typeof c.req !== 'string' || typeof c.actor !== 'string' || typeof c.reason !== 'string')
    return 'holds a control op without its request id, actor or reason';
  return undefined;
}

/**
 * What makes decoded items unusable in partition `partition`'s entry `entry` (its id as a key), or
 * undefined. The router writes an entry at its last item's key, items of that partition's users
 * only, each key two non-negative integers: an item keyed above its entry, or not a key at all
 * (`1e300`, `NaN`, `1.5`: no stream id), would become the partition's committed position — a
 * commit Redis refuses every time, or one past which every routed item is skipped — and a user
 * of another partition is written under keys its partition does not hold (on a Redis Cluster, a
 * commit refused every time). Such an entry was written by something else than the router.
 */
export function misplacedItem(items: readonly RoutedItem[], partition: number, entry: OrderKey, partitionOf: (user: string) => number): string | undefined {
  for (const it of items) {
    const [ms, seq] = it.k;
    if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq) || ms < 0 || seq < 0) return 'routed item has an order key that is no entry id';
    if (ms > entry.ms || (ms === entry.ms && seq > entry.seq)) return 'routed item has an order key above its entry id';
    if (partitionOf('e' in it ? it.e.user : it.c.user) !== partition) return 'routed item is of a user of another partition';
  }
  return undefined;
}

/** `items` of partition `p`'s entry `id`, or a TypeError saying what makes them unusable ({@link misplacedItem}). */
export function checkedRouted(items: RoutedItem[], p: number, id: string, partitionOf: (user: string) => number): RoutedItem[] {
  const bad = misplacedItem(items, p, parseKey(id), partitionOf);
  if (bad) throw new TypeError(bad);
  return items;
}

/** Decodes a partition entry's items (MessagePack, or JSON as written by an earlier version); throws on a malformed entry. */
export function decodeRouted(buf: Buffer | string): RoutedItem[] {
  const v = (typeof buf === 'string' ? JSON.parse(buf) : buf[0] === JSON_ARRAY ? JSON.parse(buf.toString('utf8')) : unpackr.unpack(buf)) as unknown;
  if (!Array.isArray(v)) throw new TypeError('routed entry is not an array');
  for (const item of v as RoutedItem[]) {
    const bad = itemProblem(item);
    if (bad) throw new TypeError(`routed item ${bad}`);
    if (!('e' in item) || !item.x) continue;
    const a = item.e as Attached;
    if (item.x.f !== undefined) a[IP_FAILURES] = item.x.f;
    if (item.x.c !== undefined) a[CAPTURED_SESSION] = item.x.c;
    if (item.x.s !== undefined) a[STORED_SESSION] = item.x.s;
    if (item.x.r === true) a[SESSION_REVOKED] = true;
  }
  return v as RoutedItem[];
}
