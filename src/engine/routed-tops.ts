/**
 * What the router routed of each input stream, to tell a re-delivery from an entry never routed
 * when a partition entry is found written already (route-write.ts `presentRefs`). Per stream, the
 * time (ms) of the newest entry routed or dead-lettered from it: a sorted set in the stream's slot
 * (`Keys.routedTop`, member `top`, raised with ZADD GT: it never goes back). An entry read for the
 * first time (not re-read from the group's pending entries) above that mark was never routed: it is
 * older than what its partition applied — a stream added to the configuration with a backlog, an id
 * given explicitly — so it cannot be applied in order, and is dead-lettered (docs/interfaces.md §2)
 * rather than acked unseen. One at or below the mark, or re-read from the pending entries, is a
 * re-delivery (a crash before the ack, a consumer group deleted or rewound): skipped, as before.
 */
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import { sendTogether } from '../redis/send-together.js';
import { idMs } from '../redis/stream-info.js';
import type { RawEntry } from '../types.js';
import type { Held } from './route-write.js';

/** The dead-letter reason of an entry older than what its partition applied. */
export const BEHIND_PARTITION =
  'entry id: older than what its partition already applied (a stream added to the configuration with a backlog, or an id given explicitly): not applied; replay it (riskstream replay, or XADD with *)';

const MEMBER = 'top';
type Ref = { stream: string; id: string };
type Dead = { raw: RawEntry; reason: string };

/**
 * The dead letters of a routing step: `bad` and the entries of `present` (found routed already)
 * never routed, written with `deadLetter`; then the marks are raised to what the step routed or
 * dead-lettered (before its entries are acked). Returns how many entries were dead-lettered.
 */
export async function deadLetterStep(
  redis: RedisClient,
  keys: Keys,
  step: { routable: readonly Held[]; bad: readonly Dead[]; present: readonly Ref[] },
  deadLetter: (dead: Dead[]) => Promise<void>,
): Promise<number> {
  const dead = [...step.bad, ...(await unrouted(redis, keys, step.routable, step.present))];
  if (dead.length) await deadLetter(dead);
  await record(redis, keys, [...step.routable.map((h) => h.ref), ...step.bad.map((b) => b.raw)]);
  return dead.length;
}

const refKey = (r: Ref): string => `${r.stream}\u0000${r.id}`;

/** The entries of `present` never routed (above their stream's mark, not re-read), with their original fields. */
async function unrouted(redis: RedisClient, keys: Keys, routable: readonly Held[], present: readonly Ref[]): Promise<Dead[]> {
  if (!present.length) return [];
  const byRef = new Map(routable.map((h) => [refKey(h.ref), h]));
  const first = present.filter((r) => {
    const h = byRef.get(refKey(r));
    return h !== undefined && !h.redelivered;
  });
  if (!first.length) return [];
  const streams = [...new Set(first.map((r) => r.stream))];
  const marks = new Map<string, number>();
  for (const [i, [err, v]] of (await sendTogether(redis, (r) => streams.map((s) => r.zscore(keys.routedTop(s), MEMBER)))).entries()) {
    if (err) throw err;
    marks.set(streams[i]!, v === null || v === undefined ? -1 : Number(v));
  }
  const never = first.filter((r) => idMs(r.id) > marks.get(r.stream)!);
  if (!never.length) return [];
  // The original fields, read again (rare): the router keeps only the decoded event.
  const rows = await sendTogether(redis, (r) => never.map((n) => r.xrange(n.stream, n.id, n.id)));
  return never.map((n, i) => {
    const [err, res] = rows[i]!;
    if (err) throw err;
    const flat = (res as Array<[string, string[]]>)[0]?.[1];
    const fields: Record<string, string> = {};
    if (flat) for (let k = 0; k + 1 < flat.length; k += 2) fields[flat[k]!] = flat[k + 1]!;
    else fields.event = JSON.stringify(byRef.get(refKey(n))!.event ?? null); // deleted meanwhile: what was read
    return { raw: { stream: n.stream, id: n.id, fields, deliveries: 1 }, reason: BEHIND_PARTITION };
  });
}

/** Raises each stream's mark to the newest of `entries` (ZADD GT: one command per stream, sent together). */
async function record(redis: RedisClient, keys: Keys, entries: readonly Ref[]): Promise<void> {
  const top = new Map<string, number>();
  for (const { stream, id } of entries) {
    const ms = idMs(id);
    if (Number.isSafeInteger(ms) && ms > (top.get(stream) ?? -1)) top.set(stream, ms);
  }
  if (!top.size) return;
  for (const [err] of await sendTogether(redis, (r) => [...top].map(([s, ms]) => r.zadd(keys.routedTop(s), 'GT', ms, MEMBER)))) if (err) throw err;
}
