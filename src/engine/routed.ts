import { IP_FAILURES } from '../detect/password-spray.js';
import { CAPTURED_SESSION, SESSION_REVOKED } from '../detect/session-hijack.js';
import { STORED_SESSION } from '../sessions/identity.js';
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
 * Encodes a partition entry's items (in order), as JSON: entries are transient (trimmed once
 * committed), and V8's native JSON beats a JS encoder on these larger, short-lived payloads.
 */
export function encodeRouted(items: readonly RoutedItem[]): string {
  return JSON.stringify(items);
}

/** Decodes a partition entry's items; throws on a malformed entry. */
export function decodeRouted(buf: Buffer | string): RoutedItem[] {
  const v = JSON.parse(typeof buf === 'string' ? buf : buf.toString('utf8')) as unknown;
  if (!Array.isArray(v)) throw new TypeError('routed entry is not an array');
  for (const item of v as RoutedItem[]) {
    if (!('e' in item) || !item.x) continue;
    const a = item.e as Attached;
    if (item.x.f !== undefined) a[IP_FAILURES] = item.x.f;
    if (item.x.c !== undefined) a[CAPTURED_SESSION] = item.x.c;
    if (item.x.s !== undefined) a[STORED_SESSION] = item.x.s;
    if (item.x.r === true) a[SESSION_REVOKED] = true;
  }
  return v as RoutedItem[];
}
