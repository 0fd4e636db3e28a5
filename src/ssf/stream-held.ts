import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { RedisClient } from '../redis/client.js';
import type { LevelChange } from '../types.js';
import { holdCapped, releaseHeld } from './held.js';
import { enqueueLevelChange, enqueueSessionRevoked, type SetQueue } from './queue.js';
import type { SessionRevoked } from './set-builder.js';
import { streamReceiverName, type SsfStreamStore, type SsfStream } from './streams.js';
import { isSubjectRemoved } from './subject-key.js';

/** A SET held for a paused stream: a level change or a session revocation. */
export type Held = { kind: 'change'; change: LevelChange } | { kind: 'revoked'; revoked: SessionRevoked };

/**
 * The SETs of paused SSF streams: held in Redis (at most `maxHeld` a stream, the oldest dropped,
 * audited once an hour), released to the queue in order when the stream is enabled again, dropped
 * when it is disabled.
 */
export class HeldSets {
  constructor(
    private readonly redis: RedisClient,
    private readonly store: SsfStreamStore,
    private readonly queue: SetQueue,
    private readonly audit: AuditLog,
    private readonly maxHeld: () => number,
    /** A stream as a delivery receiver. */
    private readonly receiver: (s: SsfStream) => ResolvedReceiver,
  ) {}

  /** Holds `items` for the paused stream `s`. */
  async hold(s: SsfStream, items: Held[]): Promise<void> {
    const max = this.maxHeld();
    const dropped = await holdCapped(
      this.redis,
      this.store.heldKey(s.stream_id),
      items.map((i) => JSON.stringify(i)),
      max,
    );
    if (dropped.audit) {
      await this.audit.write({
        action: 'receiver.held_full',
        actor: 'system',
        target: streamReceiverName(s.stream_id),
        details: { stream_id: s.stream_id, max_held: max, dropped: dropped.count },
      });
    }
    await this.settle(s.stream_id);
  }

  /**
   * After holding: this worker's view of the stream may be up to a sync old, and the stream may
   * have been resumed (its held SETs released) or disabled just before the push. Re-read, and
   * release or drop what was held then, so no SET waits for a resume that already happened.
   */
  private async settle(id: string): Promise<void> {
    const now = await this.store.find(id);
    if (now?.status === 'enabled') await this.release(now);
    else if (!now || now.status === 'disabled') await this.drop(id);
  }

  /** Queues what was held for `s`, oldest first. */
  async release(s: SsfStream): Promise<void> {
    const rx = this.receiver(s);
    await releaseHeld(this.redis, this.store.heldKey(s.stream_id), async (raw) => {
      for (const i of raw.map((v) => JSON.parse(v) as Held)) {
        if (
          i.kind === 'change' ? isSubjectRemoved(rx.removedSubjects, i.change.user) : isSubjectRemoved(rx.removedSubjects, i.revoked.user, i.revoked.sessionId)
        )
          continue; // removed since it was held
        if (i.kind === 'change') await enqueueLevelChange(this.queue, i.change, [rx]);
        else await enqueueSessionRevoked(this.queue, i.revoked, [rx]);
      }
    });
  }

  /** Drops what was held for stream `id`. */
  async drop(id: string): Promise<void> {
    await this.redis.del(this.store.heldKey(id));
  }
}
