/**
 * One heartbeat's lease renewals (src/engine/leases.ts): each lease renewed on its own (PEXPIRE iff
 * the value is still our token), so that a cluster master failing over stalls only the leases it
 * serves; what each answer means for the lease; and how long the heartbeat waits for them.
 */
import type { RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';
import { parseLeaseToken, resourceKeys } from './lease-keys.js';
import type { Lease } from './lease-options.js';

/**
 * What one renewal's answer means: `renewed`; `taken` (the lease holds another token — `byUs`
 * when it names this worker id: a newer process with the same id took it over); `unanswered`
 * (failed with `err`, or an answer that is neither: the lease is lost only once past its ttl).
 */
export type RenewAnswer = { kind: 'renewed' } | { kind: 'taken'; byUs: boolean } | { kind: 'unanswered'; err?: unknown };

/** Reads the reply of a `leaseRenew` script for `workerId`'s lease. */
export function renewAnswer(workerId: string, reply: unknown): RenewAnswer {
  if (reply === 1) return { kind: 'renewed' };
  if (typeof reply === 'string') return { kind: 'taken', byUs: parseLeaseToken(reply)?.workerId === workerId };
  return { kind: 'unanswered' };
}

/** Where {@link sendRenewals} sends, and for how long it waits. */
export interface RenewTarget {
  redis: RedisClient;
  prefix: string;
  workerId: string;
  ttlMs: number;
  /** How long to wait for the answers (ms): a renewal still out then is handled when it answers. */
  waitMs: number;
}

/**
 * Renews each of `leases` on its own, tells each answer to `answered`, and resolves once all have
 * answered or `waitMs` passed. Each lease's resource is in `out` while its renewal is out.
 */
export async function sendRenewals(to: RenewTarget, leases: readonly Lease[], out: Set<string>, answered: (l: Lease, a: RenewAnswer) => void): Promise<void> {
  const scripts = scriptsOn(to.redis);
  const answers = leases.map((l) => {
    out.add(l.resource);
    return scripts
      .leaseRenew(resourceKeys(to.prefix, l.resource).lease, l.token, to.ttlMs)
      .then(
        (reply) => answered(l, renewAnswer(to.workerId, reply)),
        (err: unknown) => answered(l, { kind: 'unanswered', err }),
      )
      .finally(() => out.delete(l.resource));
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(answers), new Promise<void>((r) => (timer = setTimeout(r, Math.max(1, to.waitMs))))]);
  clearTimeout(timer);
}
