/**
 * The engine's membership set and lease acquisition in Redis: each heartbeat a worker scores
 * itself (server clock) and reads the live members; the leases rendezvous hashing assigns to it
 * are acquired in one pipeline.
 */
import { pipeline, type RedisClient } from '../redis/client.js';
import { queueScript, scriptsOn } from '../redis/scripts.js';
import { liveMembers } from './assignment.js';
import { membersKey, parseLeaseToken, resourceKeys } from './lease-keys.js';
import type { Lease } from './lease-options.js';
import type { Logger } from '../obs/logger.js';
import { LogThrottle } from '../obs/log-throttle.js';

/** Members silent for this many ttl are removed from the membership set. */
const FORGET_TTLS = 10;

/** Scores `workerId` now (server clock), forgets long-dead members, returns the live ones (sorted, `workerId` included). */
export async function heartbeatMembers(redis: RedisClient, prefix: string, workerId: string, ttlMs: number): Promise<string[]> {
  const reply = await scriptsOn(redis).engineHeartbeat(membersKey(prefix), workerId, FORGET_TTLS * ttlMs);
  const scores: Array<[string, number]> = [];
  for (let i = 1; i + 1 < reply.length; i += 2) scores.push([String(reply[i]), Number(reply[i + 1])]);
  const live = liveMembers(scores, Number(reply[0]), ttlMs);
  return live.includes(workerId) ? live : [...live, workerId].sort();
}

/**
 * Tries to acquire each of `wanted` for `workerId` in one pipeline; returns the leases taken (acquired at `sent`).
 * A lease whose script failed (its key holding another type: WRONGTYPE) is told to `failed`, not taken for one held by another worker.
 */
export async function acquireLeases(
  redis: RedisClient,
  prefix: string,
  workerId: string,
  ttlMs: number,
  wanted: readonly string[],
  sent: number,
  failed: (failures: Array<{ resource: string; err: Error }>) => void = () => undefined,
): Promise<Lease[]> {
  const p = pipeline(redis);
  for (const r of wanted) {
    const k = resourceKeys(prefix, r);
    queueScript(p, 'leaseAcquire', k.lease, k.epoch, workerId, ttlMs);
  }
  const results = (await p.exec()) ?? [];
  const acquired: Lease[] = [];
  const failures: Array<{ resource: string; err: Error }> = [];
  wanted.forEach((resource, i) => {
    const [err, reply] = results[i] ?? [null, undefined];
    if (err) failures.push({ resource, err });
    if (err || !Array.isArray(reply) || reply[0] !== 1) return; // held by another worker (or failed): next heartbeat
    const token = String(reply[1]);
    acquired.push({ resource, token, epoch: parseLeaseToken(token)?.epoch ?? 0, acquiredAt: sent });
  });
  if (failures.length) failed(failures);
  return acquired;
}

/**
 * The `failed` of {@link acquireLeases} that logs it: one error line a minute at most (with the
 * repeats held back), naming the first leases and their keys — a lease no worker can take stops its
 * work everywhere, and said nothing.
 */
export function logLeaseFailures(prefix: string, workerId: string, logger?: Logger): (failures: Array<{ resource: string; err: Error }>) => void {
  const throttle = new LogThrottle(60_000);
  return (failures) => {
    const said = throttle.take('acquire');
    if (!said) return;
    const first = failures.slice(0, 5);
    logger?.error(
      {
        err: first[0]!.err,
        worker: workerId,
        count: failures.length,
        resources: first.map((f) => f.resource),
        keys: first.map((f) => resourceKeys(prefix, f.resource).lease),
        repeats: said.suppressed,
      },
      'engine: lease cannot be acquired (retried every heartbeat)',
    );
  };
}
