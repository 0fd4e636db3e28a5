import type { ResolvedReceiver } from '../config/load.js';
import { enqueueSessionRevoked, type SetQueue } from '../ssf/queue.js';
import type { SessionRevoked } from '../ssf/set-builder.js';
import type { RevocationSink, SessionRevocation } from './revoke.js';

/** The SET builder's input for a revocation made by an admin (API or CLI). */
export function toSessionRevoked(r: SessionRevocation): SessionRevoked {
  return { id: r.id, user: r.user, sessionId: r.sessionId, reason: r.reason, initiatingEntity: 'admin', time: r.time };
}

/**
 * A {@link RevocationSink} that queues one CAEP session-revoked SET per receiver wanting it
 * (idempotent: the job id derives from the deterministic revocation id).
 */
export function setQueueSink(queue: SetQueue, receivers: () => readonly ResolvedReceiver[]): RevocationSink {
  return async (r) => {
    await enqueueSessionRevoked(queue, toSessionRevoked(r), receivers());
  };
}
