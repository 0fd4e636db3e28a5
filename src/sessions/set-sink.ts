import type { ResolvedReceiver } from '../config/receiver.js';
import { enqueueSessionRevoked, type SetQueue } from '../ssf/queue.js';
import type { SessionRevoked } from '../ssf/set-builder.js';
import type { StreamService } from '../ssf/stream-service.js';
import type { RevocationSink, SessionRevocation } from './revoke.js';

/** The SET builder's input for a revocation: made by an admin (API or CLI), or by a response policy (actor `policy`). */
export function toSessionRevoked(r: SessionRevocation): SessionRevoked {
  return { id: r.id, user: r.user, sessionId: r.sessionId, reason: r.reason, initiatingEntity: r.actor === 'policy' ? 'policy' : 'admin', time: r.time };
}

/**
 * A {@link RevocationSink} that queues one CAEP session-revoked SET per receiver wanting it
 * (idempotent: the job id derives from the deterministic revocation id), then hands it to the
 * SSF streams registered through the stream management API, when given (held for paused ones).
 */
export function setQueueSink(queue: SetQueue, receivers: () => readonly ResolvedReceiver[], streams?: Pick<StreamService, 'onRevoked'>): RevocationSink {
  return async (r) => {
    const revoked = toSessionRevoked(r);
    await enqueueSessionRevoked(queue, revoked, receivers());
    await streams?.onRevoked(revoked);
  };
}
