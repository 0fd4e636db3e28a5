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
 * Returns the partitions written, how many entries were found written already and how many derived
 * events found no sub-index left (dropped; see {@link addDerived}), and the refs of the input
 * entries in those found written already whose partition does not hold them as sent
 * (`presentRefs`, once each; src/engine/routed-tops.ts tells a re-delivery from an entry older
 * than what its partition applied). Entries are
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
): Promise<{ partitions: number; present: number; dropped: number; presentRefs: Array<{ stream: string; id: string }> }> {
  if (!items.length) return { partitions: 0, present: 0, dropped: 0, presentRefs: [] };
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
  const dropped = events.length > original ? addDerived(all, items, events.slice(original), (user) => keys.partitionOf(user)) : 0;
  all.sort((a, b) => compareKeys(a.key, b.key));
  const byPartition = new Map<number, RoutedItem[]>();
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
  }
  // Every entry encoded before any is sent: a throw while sending would leave sent writes unwatched.
  const encoded: Array<{ part: number; list: RoutedItem[]; id: string; bytes: Buffer }> = [];
  let split = false;
  for (const [part, list] of byPartition) {
    const chunks = encodeChunks(list);
    split ||= chunks.length > 1;
    for (const c of chunks) encoded.push({ part, list: c.items, id: keyId(itemKey(c.items[c.items.length - 1]!)), bytes: c.bytes });
  }
  const send = (r: RedisClient, e: (typeof encoded)[number]): Promise<unknown> => {
    handoff?.put(e.part, e.id, e.list, e.bytes);
    return r.xadd(keys.partitionIn(e.part), e.id, ROUTED_FIELD, e.bytes);
  };
  const found: Array<(typeof encoded)[number]> = [];
  const check = (e: (typeof encoded)[number], err: Error | null | undefined): void => {
    if (err) handoff?.take(e.part, e.id);
    // Not above the top: this entry (or a later one holding it) was written already — a
    // re-delivery (crash, rewound group), this step's own write sent again after a dropped
    // connection — or its entries are older than what the partition holds (a stream added with a
    // backlog, an explicit id): the router tells which (routed-tops.ts).
    if (err && !/equal or smaller/i.test(err.message)) throw err;
    if (err) found.push(e);
  };
  if (split) {
    // A partition's items in several entries (a step of very large events): one at a time, so a
    // failed entry stops the later ones (a later one written would make it look written already).
    for (const e of encoded)
      check(
        e,
        await send(redis, e).then(
          () => null,
          (err: Error) => err,
        ),
      );
  } else {
    const outcomes = await sendTogether(redis, (r) => encoded.map((e) => send(r, e)));
    for (const [i, [err]] of outcomes.entries()) check(encoded[i]!, err);
  }
  return { partitions: byPartition.size, present: found.length, dropped, presentRefs: await unwrittenRefs(redis, keys, found) };
}

/**
 * The refs of the input entries in `found` (entries whose XADD found the id taken), once each,
 * except those whose partition holds that entry byte for byte: those were written — by this very
 * step when ioredis sent the XADD again after a dropped connection (its first send had landed), or
 * by an earlier routing of the same entries — and are never dead-lettered. One round trip, only
 * when something was found (rare).
 */
async function unwrittenRefs(
  redis: RedisClient,
  keys: Keys,
  found: ReadonlyArray<{ part: number; id: string; list: RoutedItem[]; bytes: Buffer }>,
): Promise<Array<{ stream: string; id: string }>> {
  if (!found.length) return [];
  const held = await sendTogether(redis, (r) => found.map((e) => r.xrangeBuffer(keys.partitionIn(e.part), e.id, e.id)));
  const refs: Array<{ stream: string; id: string }> = [];
  const seen = new Set<string>();
  for (const [i, e] of found.entries()) {
    const [err, rows] = held[i]!;
    if (err) throw err;
    const value = (rows as Array<[Buffer, Buffer[]]>)[0]?.[1]?.[1];
    if (value?.equals(e.bytes)) continue;
    for (const it of e.list) {
      const ref = `${it.s}\u0000${it.i}`;
      if (seen.has(ref)) continue; // events derived from one entry share its ref
      seen.add(ref);
      refs.push({ stream: it.s, id: it.i });
    }
  }
  return refs;
}

/**
 * Most bytes of one partition entry: a step's items of one partition past this go in several
 * entries (Redis's bulk strings end at 512 MB; ioredis and the owner hold an entry whole).
 */
export const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/**
 * A partition's items encoded as one entry, or — past `max` bytes (a step of very large events) —
 * as several, each holding a run of the items in order. One item alone is never split.
 */
export function encodeChunks(items: RoutedItem[], max: number = MAX_ENTRY_BYTES): Array<{ items: RoutedItem[]; bytes: Buffer }> {
  let bytes: Buffer | undefined;
  try {
    bytes = encodeRouted(items);
  } catch (err) {
    if (!(err instanceof RangeError) || items.length === 1) throw err; // larger than a buffer can be
  }
  if (bytes !== undefined && (bytes.length <= max || items.length === 1)) return [{ items, bytes }];
  const half = items.length >> 1;
  return [...encodeChunks(items.slice(0, half), max), ...encodeChunks(items.slice(half), max)];
}

const itemKey = (it: RoutedItem): OrderKey => ({ ms: it.k[0], seq: it.k[1] });

/**
 * Appends the events the edge derived from routed entries (under their entry's ref) to `all`,
 * each taking the next sub-index of its entry's key in its own partition (keys need only be unique
 * within a partition: a failure revealing password_spray victims of many users routes up to
 * MAX_SUBS − 1 of them per partition, not in all). One not derived from a routed entry (it cannot
 * be ordered), or past that, is dropped: returns how many were (the router reports them, counted
 * and logged — never silently).
 */
function addDerived(all: Held[], items: readonly Held[], extras: readonly StreamEvent[], partitionOf: (user: string) => number): number {
  let dropped = 0;
  const byRef = new Map<string, { key: OrderKey; subs: Map<number, number> }>();
  for (const h of items) byRef.set(`${h.ref.stream}\u0000${h.ref.id}`, { key: h.key, subs: new Map() });
  for (const extra of extras) {
    const base = byRef.get(`${extra.ref.stream}\u0000${extra.ref.id}`);
    const p = base ? partitionOf(extra.event.user) : 0;
    const sub = base ? (base.subs.get(p) ?? 0) + 1 : MAX_SUBS;
    if (!base || sub >= MAX_SUBS) {
      dropped++;
      continue;
    }
    base.subs.set(p, sub);
    all.push({ key: { ms: base.key.ms, seq: base.key.seq + sub }, ref: extra.ref, event: extra.event });
  }
  return dropped;
}
