import { Packr } from 'msgpackr';
import { IP_FAILURES } from '../detect/password-spray.js';
import { CAPTURED_SESSION } from '../detect/session-hijack.js';
import type { CanonicalEvent } from '../types.js';

/** An admin request routed in order with the input (applied by the user's partition owner). */
export interface ControlOp {
  op: 'reset';
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
  | { k: [number, number]; s: string; i: string; e: CanonicalEvent; x?: { f?: unknown; c?: unknown } }
  | { k: [number, number]; s: string; i: string; c: ControlOp };

type Attached = { [IP_FAILURES]?: unknown; [CAPTURED_SESSION]?: unknown };

/** What the edge attached to an event, as plain fields (undefined when nothing). */
export function attachedOf(event: CanonicalEvent): { f?: unknown; c?: unknown } | undefined {
  const a = event as Attached;
  if (a[IP_FAILURES] === undefined && a[CAPTURED_SESSION] === undefined) return undefined;
  return { ...(a[IP_FAILURES] !== undefined ? { f: a[IP_FAILURES] } : {}), ...(a[CAPTURED_SESSION] !== undefined ? { c: a[CAPTURED_SESSION] } : {}) };
}

/** The field of a partition stream entry holding its routed items. */
export const ROUTED_FIELD = 'b';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Encodes a partition entry's items (in order). */
export function encodeRouted(items: readonly RoutedItem[]): Buffer {
  return packr.pack(items);
}

/** Decodes a partition entry's items; throws on a malformed entry. */
export function decodeRouted(buf: Buffer): RoutedItem[] {
  const v = packr.unpack(buf) as unknown;
  if (!Array.isArray(v)) throw new TypeError('routed entry is not an array');
  for (const item of v as RoutedItem[]) {
    if (!('e' in item) || !item.x) continue;
    const a = item.e as Attached;
    if (item.x.f !== undefined) a[IP_FAILURES] = item.x.f;
    if (item.x.c !== undefined) a[CAPTURED_SESSION] = item.x.c;
  }
  return v as RoutedItem[];
}
