import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { RedisClient } from '../redis/client.js';
import type { DeliveryKeys } from '../delivery-keys.js';
import { RiskstreamError } from '../errors.js';
import { enqueueVerification, type SetQueue } from './queue.js';
import { claimVerification } from './stream-verify.js';

/** What {@link verifyReceiver} uses. */
export interface ReceiverVerifyDeps {
  redis: RedisClient;
  keys: Pick<DeliveryKeys, 'ssfVerify'>;
  queue: SetQueue;
  audit: AuditLog;
  /** The configured receivers (not SSF streams: they ask with `POST /ssf/verify`). */
  receivers: () => readonly ResolvedReceiver[];
  /** `ssf.limits.min_verification_interval` (ms): at most one verification per receiver in it. */
  interval: () => number;
}

/**
 * Queues an SSF verification SET (`state` echoed, subject the receiver's name as an opaque id) to
 * a configured receiver, as an admin's check that it receives and verifies riskstream's SETs:
 * NOT_FOUND for no such receiver, BAD_REQUEST for one disabled or whose `events` leave
 * `verification` out, RATE_LIMITED within `min_verification_interval` of the last. Audited
 * (`receiver.verification_requested`); the delivery is audited as every SET's. Returns the SET's job id.
 */
export async function verifyReceiver(deps: ReceiverVerifyDeps, name: string, state: string | undefined, actor: string): Promise<string> {
  const r = deps.receivers().find((x) => x.name === name);
  if (!r) throw new RiskstreamError('NOT_FOUND', `no configured receiver ${name}`);
  if (!r.enabled) throw new RiskstreamError('BAD_REQUEST', `receiver ${name} is disabled`);
  if (!r.events.includes('verification'))
    throw new RiskstreamError('BAD_REQUEST', `receiver ${name} does not take verification events (its events: ${r.events.join(', ')})`);
  await claimVerification(deps.redis, deps.keys.ssfVerify(`receiver:${name}`), deps.interval());
  const id = randomUUID();
  await deps.audit.write({ action: 'receiver.verification_requested', actor, target: name, details: { id, ...(state !== undefined ? { state } : {}) } });
  return enqueueVerification(deps.queue, name, id, state);
}
