import type { RoutedItem } from './routed.js';

/**
 * Most items held: entries nobody takes (an owner far behind, a step whose writes failed and are
 * routed again) are dropped oldest first; they are decoded from the stream when read. About 4 s
 * of input at 5 k/s.
 */
const MAX_ITEMS = 20_000;

interface Offered {
  items: RoutedItem[];
  /** The entry's field value as written: an entry is taken only when the stream holds these bytes. */
  bytes: Buffer;
}

/**
 * The partition entries this process's router has just written, handed to its own partition owner
 * in memory: an owner reading such an entry takes its items from here instead of decoding the
 * entry's JSON again (that decode, and the garbage of a second copy of every event, were a tenth of
 * the worker's time). The stream stays the truth: only entries written by this process, under the
 * exact id the stream holds, are offered; anything else — a restart, a rewind, an entry written by
 * another worker, one dropped here — is decoded from the stream as before. Items are taken once.
 */
export class RoutedHandoff {
  private readonly entries = new Map<string, Offered>();
  private items = 0;

  constructor(private readonly maxItems = MAX_ITEMS) {}

  /** Offers the items of partition entry `id` of `partition`, encoded as `bytes` (the value XADDed). */
  put(partition: number, id: string, items: RoutedItem[], bytes: Buffer): void {
    const k = keyOf(partition, id);
    this.take(partition, id);
    this.entries.set(k, { items, bytes });
    this.items += items.length;
    for (const [old, o] of this.entries) {
      if (this.items <= this.maxItems) break;
      this.entries.delete(old);
      this.items -= o.items.length;
    }
  }

  /**
   * The items of that entry (once) when this process offered it and `value` — the entry as read
   * from the stream, when given — is byte for byte what it offered; else undefined (decode it).
   */
  take(partition: number, id: string, value?: Buffer): RoutedItem[] | undefined {
    const k = keyOf(partition, id);
    const o = this.entries.get(k);
    if (!o) return undefined;
    this.entries.delete(k);
    this.items -= o.items.length;
    return value === undefined || value.equals(o.bytes) ? o.items : undefined;
  }

  /** Forgets a partition's entries (its ownership moved, or it re-reads from its committed position). */
  forget(partition: number): void {
    const prefix = `${partition} `;
    for (const [k, o] of this.entries) {
      if (!k.startsWith(prefix)) continue;
      this.entries.delete(k);
      this.items -= o.items.length;
    }
  }

  /** Items held now. */
  get size(): number {
    return this.items;
  }
}

function keyOf(partition: number, id: string): string {
  return `${partition} ${id}`;
}
