import type { RedisClient } from '../redis/client.js';
import { sendTogether } from '../redis/send-together.js';
import type { Keys } from '../keys.js';
import { compareKeys, keyId, MAX_SUBS, type OrderKey } from '../partition.js';
import type { CanonicalEvent, StreamEvent } from '../types.js';
import type { RoutedHandoff } from './handoff.js';
import { attachedOf, encodeRouted, ROUTED_FIELD, type ControlOp, type RoutedItem } from './routed.js';

/** An entry read by the router and held until the watermark passes it. */
export interface Held {
  key: OrderKey;
  ref: { stream: string; id: string };
  event?: CanonicalEvent;
  control?: ControlOp;
}

/**
 * Enriches and writes routable items, one entry per partition. Events the edge derives from an
 * entry (appended by `enrich`, under that entry's ref) take the next sub-indexes of its key.
 * Returns the partitions written and how many entries were found written already. Entries are
 * offered to `handoff` (this process's owner) before they are sent, as an owner may read one
 * before this step sees its reply; one found written already is withdrawn (and an owner takes an
 * entry only when the stream holds exactly the bytes offered).
 */
export async function writeRouted(
  redis: RedisClient,
  keys: Keys,
  enrich: (events: StreamEvent[]) => Promise<void>,
  items: Held[],
  handoff?: Pick<RoutedHandoff, 'put' | 'take'>,
): Promise<{ partitions: number; present: number }> {
  if (!items.length) return { partitions: 0, present: 0 };
  const events: StreamEvent[] = [];
  for (const h of items) if (h.event) events.push({ ref: h.ref, event: h.event, deliveries: 1 });
  const original = events.length;
  if (events.length) await enrich(events);
  const all: Held[] = [];
  let e = 0;
  for (const h of items) {
    // An enrichment step may have replaced the event object.
    const event = h.event ? events[e++]!.event : undefined;
    all.push(event === h.event ? h : { key: h.key, ref: h.ref, event });
  }
  if (events.length > original) addDerived(all, items, events.slice(original));
  all.sort((a, b) => compareKeys(a.key, b.key));
  const byPartition = new Map<number, RoutedItem[]>();
  const top = new Map<number, OrderKey>();
  for (const h of all) {
    const user = h.event ? h.event.user : h.control!.user;
    const p = keys.partitionOf(user);
    const k: [number, number] = [h.key.ms, h.key.seq];
    const x = h.event ? attachedOf(h.event) : undefined;
    const item: RoutedItem = h.event
      ? x
        ? { k, s: h.ref.stream, i: h.ref.id, e: h.event, x }
        : { k, s: h.ref.stream, i: h.ref.id, e: h.event }
      : { k, s: h.ref.stream, i: h.ref.id, c: h.control! };
    const list = byPartition.get(p);
    if (list) list.push(item);
    else byPartition.set(p, [item]);
    top.set(p, h.key);
  }
  // Every entry encoded before any is sent: a throw while sending would leave sent writes unwatched.
  const encoded = [...byPartition].map(([part, list]) => ({ part, list, id: keyId(top.get(part)!), json: encodeRouted(list) }));
  const sent: Array<[number, string]> = [];
  const outcomes = await sendTogether(redis, (r) => {
    const out: Array<Promise<unknown>> = [];
    for (const { part, list, id, json } of encoded) {
      if (handoff) {
        const bytes = Buffer.from(json, 'utf8');
        handoff.put(part, id, list, bytes);
        out.push(r.xadd(keys.partitionIn(part), id, ROUTED_FIELD, bytes));
      } else out.push(r.xadd(keys.partitionIn(part), id, ROUTED_FIELD, json)); // as text: no copy into a Buffer (the same bytes sent)
      sent.push([part, id]);
    }
    return out;
  });
  let present = 0;
  for (const [i, [err]] of outcomes.entries()) {
    if (err) handoff?.take(sent[i]![0], sent[i]![1]);
    // Not above the top: this entry (or a later one holding it) was written already — a
    // re-delivery (crash, rewound group). An entry XADDed with an explicit id below what was
    // routed looks the same and is counted here too: input ids must come from `*`.
    if (err && !/equal or smaller/i.test(err.message)) throw err;
    if (err) present++;
  }
  return { partitions: byPartition.size, present };
}

/**
 * Appends the events the edge derived from routed entries (under their entry's ref) to `all`,
 * each taking the next sub-index of its entry's key. One not derived from a routed entry (it
 * cannot be ordered) is dropped.
 */
function addDerived(all: Held[], items: readonly Held[], extras: readonly StreamEvent[]): void {
  const byRef = new Map<string, { key: OrderKey; subs: number }>();
  for (const h of items) byRef.set(`${h.ref.stream}\u0000${h.ref.id}`, { key: h.key, subs: 0 });
  for (const extra of extras) {
    const base = byRef.get(`${extra.ref.stream}\u0000${extra.ref.id}`);
    if (!base || base.subs + 1 >= MAX_SUBS) continue;
    base.subs++;
    all.push({ key: { ms: base.key.ms, seq: base.key.seq + base.subs }, ref: extra.ref, event: extra.event });
  }
}
