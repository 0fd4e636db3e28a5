/**
 * SETs waiting out a delay (a retry, a receiver's 429 pause) for a configured receiver that a
 * reload removed or turned off: run at once, so that they fail (`unknown_receiver` /
 * `receiver_disabled`, audited) now rather than once the delay — up to a `Retry-After` — is over.
 * They are never pushed: an attempt resolves its receiver before anything else. Not while a running
 * worker not reloaded yet still has the receiver on: that worker would take them and push them
 * before their retry's backoff ended; the last worker reloaded runs them.
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis/client.js';
import type { SetJobData } from './queue.js';

/** Delayed jobs read per page. */
const PAGE = 500;

/** A configured receiver, as far as which are on goes. */
type Receiver = { name: string; enabled: boolean };

/** The names of the receivers `receivers` has on. */
const namesOn = (receivers: readonly Receiver[]): string[] => receivers.filter((r) => r.enabled).map((r) => r.name);

/** The names of `before` that `after` no longer has on. */
export function receiversGone(before: readonly string[], after: readonly Receiver[]): Set<string> {
  const on = new Set(namesOn(after));
  return new Set(before.filter((n) => !on.has(n)));
}

/**
 * After each reload (call it then): promotes the delayed jobs of the configured receivers
 * (`receivers()`, the running configuration's) on at the last call (or this one's creation) and
 * no longer on, unless `onElsewhere(name)` (a running worker still has it on). Resolves how many.
 */
export function promoterOfGone(
  queue: Queue<SetJobData>,
  receivers: () => readonly Receiver[],
  onElsewhere: (name: string) => Promise<boolean>,
): () => Promise<number> {
  let before = namesOn(receivers());
  return async () => {
    const after = receivers();
    const gone = receiversGone(before, after);
    before = namesOn(after);
    for (const name of gone) if (await onElsewhere(name)) gone.delete(name);
    return promoteGoneReceivers(queue, gone);
  };
}

/**
 * The ids of the delayed set's `count` jobs from score `min` on, all those of the last score read
 * (they may go on past `count`), and that score; undefined past the end.
 */
async function delayedPage(client: RedisClient, key: string, min: string, count: number): Promise<{ ids: string[]; last: string } | undefined> {
  const flat = await client.zrangebyscore(key, min, '+inf', 'WITHSCORES', 'LIMIT', 0, count);
  if (!flat.length) return undefined;
  const last = flat[flat.length - 1]!;
  const ids: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (flat[i + 1] !== last) ids.push(flat[i]!);
  ids.push(...(await client.zrangebyscore(key, last, last)));
  return { ids, last };
}

/**
 * One read of the delayed set, in score order from a score cursor, `page` jobs at a time: promotes
 * the jobs of `gone` not in `promoted` (adding them), resolves whether it promoted any. Not by
 * position: promoting removes members, and other workers add and take jobs meanwhile, which moved
 * jobs not read yet to positions already read (they waited out their delay).
 */
async function promotePass(queue: Queue<SetJobData>, gone: ReadonlySet<string>, promoted: Set<string>, page: number): Promise<boolean> {
  // The ioredis connection the queue was created on (createSetQueue).
  const client = (await queue.client) as unknown as RedisClient;
  let any = false;
  for (let min = '-inf'; ;) {
    const read = await delayedPage(client, queue.keys.delayed!, min, page);
    if (!read) return any;
    min = `(${read.last}`;
    for (const job of await Promise.all(read.ids.map((id) => queue.getJob(id)))) {
      if (!job?.id || !gone.has(job.data.receiver) || promoted.has(job.id)) continue;
      // Gone from the delayed set meanwhile (run, removed): nothing to do.
      const ok = await job.promote().then(
        () => true,
        () => false,
      );
      if (ok) promoted.add(job.id);
      any ||= ok;
    }
  }
}

/**
 * Promotes the delayed jobs of the receivers in `gone`; resolves how many. Read again from the
 * start while a read promoted any: a job delayed meanwhile before the cursor (the retry of an
 * attempt in flight) is run too. Each job is promoted once at most.
 */
export async function promoteGoneReceivers(queue: Queue<SetJobData>, gone: ReadonlySet<string>, page = PAGE): Promise<number> {
  const promoted = new Set<string>();
  if (gone.size) while (await promotePass(queue, gone, promoted, page));
  return promoted.size;
}
