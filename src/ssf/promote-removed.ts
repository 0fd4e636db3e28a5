/**
 * SETs waiting out a delay (a retry, a receiver's 429 pause) for a configured receiver that a
 * reload removed or turned off: run at once, so that they fail (`unknown_receiver` /
 * `receiver_disabled`, audited) now rather than once the delay — up to a `Retry-After` — is over.
 * They are never pushed: an attempt resolves its receiver before anything else.
 */
import type { Queue } from 'bullmq';
import type { SetJobData } from './queue.js';

/** Delayed jobs read per page. */
const PAGE = 500;

/** The names of `before` that `after` no longer has on. */
export function receiversGone(before: readonly string[], after: readonly { name: string; enabled: boolean }[]): Set<string> {
  const on = new Set(after.filter((r) => r.enabled).map((r) => r.name));
  return new Set(before.filter((n) => !on.has(n)));
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
