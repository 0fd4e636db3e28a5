/** The SET a `set-delivery` job sends, built and signed at send time. */
import type { ResolvedReceiver } from '../config/receiver.js';
import type { KeyRing } from './key-ring.js';
import type { SetJobData } from './queue.js';
import { buildLevelChangeSet, buildSessionRevokedSet, buildStreamUpdatedSet, buildVerificationSet, type SetEnvelope } from './set-builder.js';
import { buildAndSign } from './signer.js';

/** Builds the job's SET for `receiver` (issued now, the job's fixed `jti`) and signs it with the ring's key for the receiver's alg. */
export function signJobSet(keyRing: KeyRing, issuer: string, d: SetJobData, receiver: ResolvedReceiver): Promise<string> {
  return buildAndSign(keyRing, receiver.alg, (key) => {
    const env: SetEnvelope = { issuer, receiver, key, now: Date.now(), jti: d.jti };
    if (d.event === 'risk-level-change') return buildLevelChangeSet({ ...env, change: d.change });
    if (d.event === 'verification')
      return buildVerificationSet({ ...env, streamId: receiver.streamId, txn: d.id, ...(d.state !== undefined ? { state: d.state } : {}) });
    if (d.event === 'stream-updated')
      return buildStreamUpdatedSet({
        ...env,
        streamId: receiver.streamId ?? receiver.name,
        status: d.status,
        txn: d.id,
        ...(d.reason ? { reason: d.reason } : {}),
      });
    const { id, user, sessionId, reason, initiatingEntity, time } = d;
    return buildSessionRevokedSet({ ...env, revoked: { id, user, reason, initiatingEntity, time, ...(sessionId ? { sessionId } : {}) } });
  });
}
