import { Packr } from 'msgpackr';
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

/** One routed item: its source entry and order key (`[ms, seq]`), and an event or a control op. */
export type RoutedItem =
  | { k: [number, number]; s: string; i: string; e: CanonicalEvent }
  | { k: [number, number]; s: string; i: string; c: ControlOp };

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
  return v as RoutedItem[];
}
