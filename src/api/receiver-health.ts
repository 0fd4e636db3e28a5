import type { AuditLog, StoredAuditEntry } from '../audit/audit-log.js';
import { isoTime } from '../detect/format.js';
import type { SetQueue } from '../ssf/queue.js';
import type { ReceiverHealth } from './views/console.js';

export type { ReceiverHealth } from './views/console.js';

const HEALTH_MAX_SCAN = 20_000;
const QUEUE_SCAN = 5_000;

/** ISO-8601 or null (also for a time out of `Date`'s range: an absurd stored time never fails a view). */
export const isoOrNull = (ms: unknown): string | null => (typeof ms === 'number' && ms > 0 ? isoTime(ms) : null);

/** Health with nothing seen yet. */
export function blankHealth(): ReceiverHealth {
  return {
    last_success: null,
    last_failure: null,
    last_attempt: null,
    delivered: 0,
    failed: 0,
    retries: 0,
    superseded: 0,
    queue: { waiting: 0, delayed: 0, active: 0, total: 0 },
  };
}

function attemptOf(e: StoredAuditEntry): Record<string, unknown> {
  const d = e.details;
  const out: Record<string, unknown> = { time: isoOrNull(e.time), action: e.action };
  for (const k of ['event', 'outcome', 'status', 'user', 'version', 'session_id', 'attempts', 'description', 'err', 'message', 'delay_ms']) {
    if (d[k] !== undefined && d[k] !== null && d[k] !== '') out[k] = d[k];
  }
  return out;
}

/**
 * Delivery health per receiver from the audit log's `set.*` entries since `since` (epoch ms),
 * newest first, at most {@link HEALTH_MAX_SCAN} entries. `health` starts with the given
 * receivers; receivers only seen in the log are added.
 */
export async function deliveryHealth(
  audit: AuditLog,
  names: string[],
  since: number,
): Promise<{ health: Map<string, ReceiverHealth>; scanned: number; complete: boolean }> {
  const health = new Map<string, ReceiverHealth>(names.map((n) => [n, blankHealth()]));
  const r = await audit.scan({
    max: HEALTH_MAX_SCAN,
    since,
    visit: (e) => {
      if (!e.action.startsWith('set.')) return;
      const name = typeof e.details.receiver === 'string' ? e.details.receiver : undefined;
      if (!name) return;
      let h = health.get(name);
      if (!h) health.set(name, (h = blankHealth()));
      h.last_attempt ??= attemptOf(e);
      if (e.action === 'set.delivered') {
        h.delivered++;
        h.last_success ??= attemptOf(e);
      } else if (e.action === 'set.failed') {
        h.failed++;
        h.last_failure ??= attemptOf(e);
      } else if (e.action === 'set.retry') {
        h.retries++;
        h.last_failure ??= attemptOf(e);
      } else if (e.action === 'set.superseded') h.superseded++;
    },
  });
  return { health, scanned: r.scanned, complete: r.complete };
}

/** Counts queued jobs (waiting, delayed, active) per receiver into `health`; best effort. */
export async function countQueued(setQueue: SetQueue, health: Map<string, ReceiverHealth>): Promise<{ scanned: number; truncated: boolean }> {
  let scanned = 0;
  let truncated = false;
  for (const state of ['waiting', 'delayed', 'active'] as const) {
    try {
      const jobs = await setQueue.queue.getJobs(state === 'waiting' ? ['waiting', 'prioritized'] : [state], 0, QUEUE_SCAN - 1);
      scanned += jobs.length;
      if (jobs.length >= QUEUE_SCAN) truncated = true;
      for (const j of jobs) {
        const name = j?.data?.receiver;
        const h = name ? health.get(name) : undefined;
        if (!h) continue;
        h.queue[state]++;
        h.queue.total++;
      }
    } catch {
      /* queue depth is best effort */
    }
  }
  return { scanned, truncated };
}
