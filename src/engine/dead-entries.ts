import type { RawEntry } from '../types.js';
import type { StreamRows } from './partition-read.js';
import type { RoutedItem } from './routed.js';

/** A partition entry that is no routed items, as its dead letter keeps it: text fields as they are, binary ones in base64. */
export function unroutedEntry(stream: string, id: string, fields: StreamRows[1][number][1]): RawEntry {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1]!;
    const text = v.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(v)) out[fields[i]!.toString()] = text;
    else out[`${fields[i]!.toString()}.base64`] = v.toString('base64');
  }
  return { stream, id, fields: out, deliveries: 1 };
}

/** A routed item as a raw entry (for the dead-letter stream). */
export function rawOf(item: RoutedItem): RawEntry {
  const fields: Record<string, string> = 'e' in item ? { event: JSON.stringify(item.e), canonical: '1' } : { op: item.c.op, user: item.c.user };
  return { stream: item.s, id: item.i, fields, deliveries: 1 };
}
