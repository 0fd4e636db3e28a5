/**
 * What the router sent of each input stream, to tell a re-delivery from an entry never routed
 * when a partition entry is found written already (route-write.ts `presentRefs`). Per stream, the
 * time (ms) of the newest entry the router sent to a partition: a sorted set in the stream's slot
 * (`Keys.routedTop`, member `top`, raised with ZADD GT: it never goes back), raised before the
 * step's partition entries are sent ({@link markSent}, its own round trip: on a cluster the mark
 * and the partitions live on different nodes, and the mark must be there first). An entry found
 * written already above the mark as it was before its step was never sent: it is older than what
 * its partition applied — a stream added to the configuration with a backlog, an id given
 * explicitly — so it cannot be applied in order, and is dead-lettered (docs/interfaces.md §2)
 * rather than acked unseen; so is it when read again from the group's pending entries (a router
 * that read it and stopped before its step, however long it was held). An entry whose partition
 * holds it byte for byte was written (this step's XADD sent again by ioredis after a dropped
 * connection, its first send having landed; a re-delivery) and is never told here
 * (route-write.ts). One at or below the mark was sent before: a re-delivery (a crash before the ack, a consumer group deleted or rewound),
 * skipped. What remains: a crash between a step's mark and its dead letters (one step) skips
 * that step's backlog entries when re-read; an entry in the same millisecond as the newest sent
 * of its stream is taken as sent (the mark holds milliseconds).
 */
import { randomInt } from 'node:crypto';
import type { Keys } from '../keys.js';
import { scriptsOn } from '../redis/scripts.js';
import type { RedisClient } from '../redis/client.js';
import { sendTogether } from '../redis/send-together.js';
import { idMs } from '../redis/stream-info.js';
import type { RawEntry } from '../types.js';
import type { Held } from './route-write.js';

/** The dead-letter reason of an entry older than what its partition applied. */
export const BEHIND_PARTITION =
  'entry id: older than what its partition already applied (a stream added to the configuration with a backlog, or an id given explicitly): not applied; replay it (riskstream replay, or XADD with *)';

type Ref = { stream: string; id: string };
type Dead = { raw: RawEntry; reason: string };
/** Per input stream: its mark before the step ({@link markSent}); -1 for none. */
export type SentMarks = ReadonlyMap<string, number>;

/**
 * Raises each stream's mark to the newest of `routable` (ZADD GT), before they are sent, and
 * returns the marks as they were (read in the same step: src/redis/scripts/routed-mark-1.lua,
 * whose resend after a dropped connection answers the mark its first run found).
 */
export async function markSent(redis: RedisClient, keys: Keys, routable: readonly Held[]): Promise<SentMarks> {
  const top = new Map<string, number>();
  for (const { ref } of routable) {
    const ms = idMs(ref.id);
    if (Number.isSafeInteger(ms) && ms > (top.get(ref.stream) ?? -1)) top.set(ref.stream, ms);
  }
  const before = new Map<string, number>();
  if (!top.size) return before;
  const streams = [...top.keys()];
  const nonce = String(randomInt(1, 2 ** 48));
  const scripts = scriptsOn(redis);
  const out = await sendTogether(redis, () => streams.map((s) => scripts.routedMark(keys.routedTop(s), String(top.get(s)!), nonce)));
  streams.forEach((s, i) => {
    const [err, v] = out[i]!;
    if (err) throw err;
    before.set(s, v === null || v === undefined ? -1 : Number(v));
  });
  return before;
}

/**
 * The dead letters of a routing step: `bad` and the entries of `present` (found routed already)
 * never sent before (above their stream's mark in `before`), written with `deadLetter`. Returns
 * how many entries were dead-lettered.
 */
export async function deadLetterStep(
  redis: RedisClient,
  step: { routable: readonly Held[]; bad: readonly Dead[]; present: readonly Ref[]; before: SentMarks },
  deadLetter: (dead: Dead[]) => Promise<void>,
): Promise<number> {
  const dead = [...step.bad, ...(await unrouted(redis, step.routable, step.present, step.before))];
  if (dead.length) await deadLetter(dead);
  return dead.length;
}

const refKey = (r: Ref): string => `${r.stream}\u0000${r.id}`;

/** The entries of `present` never sent (above their stream's mark), with their original fields. */
async function unrouted(redis: RedisClient, routable: readonly Held[], present: readonly Ref[], before: SentMarks): Promise<Dead[]> {
  if (!present.length) return [];
  const byRef = new Map(routable.map((h) => [refKey(h.ref), h]));
  const never = present.filter((r) => byRef.has(refKey(r)) && idMs(r.id) > (before.get(r.stream) ?? -1));
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
