import type { ResolvedReceiver } from '../config/receiver.js';
import type { LevelChange } from '../types.js';
import { enqueueLevelChanges, enqueueSessionRevoked, type SetQueue } from './queue.js';
import type { SessionRevoked } from './set-builder.js';
import type { HeldSets } from './stream-held.js';
import type { SsfStream } from './streams.js';
import { isSubjectRemoved } from './subject-key.js';

/** Where SETs for streams go: the paused streams' held lists, and each stream as a delivery receiver. */
export interface FanOut {
  held: HeldSets;
  receiver: (s: SsfStream) => ResolvedReceiver;
  /** True for a stream whose creating token is no longer configured: it gets nothing. */
  revoked: (s: SsfStream) => boolean;
}

/**
 * Queues level changes to every enabled stream of `streams` (to `queue`); holds them for paused
 * ones unless `only: 'enabled'`. A disabled stream, one whose token was revoked, or one that removed
 * the user, gets nothing.
 */
export async function fanOutChanges(f: FanOut, streams: SsfStream[], changes: LevelChange[], only: 'enabled' | undefined, queue: SetQueue): Promise<void> {
  for (const s of streams) {
    const wanted = changes.filter((c) => !isSubjectRemoved(s.removed_subjects, c.user));
    if (!wanted.length || s.status === 'disabled' || f.revoked(s)) continue;
    if (only === 'enabled' && s.status === 'paused') continue;
    if (s.status === 'paused')
      await f.held.hold(
        s,
        wanted.map((change) => ({ kind: 'change', change })),
      );
    else await enqueueLevelChanges(queue, wanted, [f.receiver(s)]);
  }
}

/** Queues a session revocation to every enabled stream of `streams` that did not remove its user or session; holds it for paused ones. */
export async function fanOutRevoked(f: FanOut, streams: SsfStream[], revoked: SessionRevoked, queue: SetQueue): Promise<void> {
  for (const s of streams) {
    if (s.status === 'disabled' || f.revoked(s) || isSubjectRemoved(s.removed_subjects, revoked.user, revoked.sessionId)) continue;
    if (s.status === 'paused') await f.held.hold(s, [{ kind: 'revoked', revoked }]);
    else await enqueueSessionRevoked(queue, revoked, [f.receiver(s)]);
  }
}
