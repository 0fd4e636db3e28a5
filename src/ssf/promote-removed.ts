/**
 * SETs waiting out a delay (a retry, a receiver's 429 pause) for a configured receiver that a
 * reload removed or turned off: run at once, so that they fail (`unknown_receiver` /
 * `receiver_disabled`, audited) now rather than once the delay — up to a `Retry-After` — is over.
 * They are never pushed: an attempt resolves its receiver before anything else. Not while a running
 * worker not reloaded yet still has the receiver on: that worker would take them and push them
 * before their retry's backoff ended; the last worker reloaded runs them.
 */
import type { Queue } from 'bullmq';
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

/** Promotes the delayed jobs of the receivers in `gone`; resolves how many. */
export async function promoteGoneReceivers(queue: Queue<SetJobData>, gone: ReadonlySet<string>): Promise<number> {
  if (!gone.size) return 0;
  let promoted = 0;
  // Promoted jobs leave the delayed set: the next page starts where the rest moved to.
  for (let start = 0; ;) {
    const jobs = await queue.getDelayed(start, start + PAGE - 1);
    if (!jobs.length) return promoted;
    let kept = 0;
    for (const job of jobs) {
      if (job && gone.has(job.data.receiver)) {
        // Gone from the delayed set meanwhile (run, removed): nothing to do.
        if (
          await job.promote().then(
            () => true,
            () => false,
          )
        )
          promoted++;
        else kept++;
      } else kept++;
    }
    start += kept;
  }
}
