/**
 * Redis key names of the delivery side: SSF streams and receivers, BullMQ's queues, each user's
 * delivery bookkeeping (with the user's own hash tag). The base of {@link Keys} (src/keys.ts).
 */
import { tag } from './redis/hash-tag.js';

/** Delivery-side key builder bound to a prefix (and the fixed partition count, `engine.partitions`). */
export class DeliveryKeys {
  constructor(
    readonly prefix: string,
    readonly partitions = 64,
  ) {}

  /** Hash: receiver name → highest version delivered for this user (a superseded SET is not marked: it was never sent). */
  userDelivered(user: string): string {
    return `${this.prefix}:u:{${tag(user)}}:delivered`;
  }
  /** Hash: receiver name → highest version enqueued for delivery (coalescing: older jobs skip). */
  userEnqueued(user: string): string {
    return `${this.prefix}:u:{${tag(user)}}:enqueued`;
  }
  /** String (PX): short lock guarding one SET send per (user, receiver). */
  userSendLock(user: string, receiver: string): string {
    return `${this.prefix}:u:{${tag(user)}}:sendlock:${receiver}`;
  }
  /** Hash: SSF stream id → stream JSON (receivers registered through the management API). */
  get ssfStreams(): string {
    return `${this.prefix}:ssf:streams`;
  }

  /** Hash: kid → the public JWK of a signing key this deployment configured, and when it last did (src/ssf/published-keys.ts). */
  get jwksPublished(): string {
    return `${this.prefix}:ssf:jwks`;
  }
  /** Stream (capped): ids of SSF streams as they are created, changed or deleted (workers re-read only those). */
  get ssfStreamChanges(): string {
    return `${this.prefix}:ssf:streams:changes`;
  }
  /** List: SETs held for a paused SSF stream. */
  ssfHeld(streamId: string): string {
    return `${this.prefix}:ssf:held:${streamId}`;
  }
  /** Sorted set: pushes in flight to an SSF stream (score: when the entry lapses; src/ssf/stream-fence.ts). */
  ssfInflight(streamId: string): string {
    return `${this.prefix}:ssf:inflight:${streamId}`;
  }
  /** String (PX = `min_verification_interval`): set by a stream's last verification request. */
  ssfVerify(streamId: string): string {
    return `${this.prefix}:ssf:verify:${streamId}`;
  }
  /** Hash: an ssf token's allowance of stream management calls (`tat`, `warned`; src/ssf/stream-rate-limit.ts), by owner digest. */
  ssfOwnerRate(owner: string): string {
    return `${this.prefix}:ssf:owner:{${tag(owner)}}:rate`;
  }
  /** Hash: configured receiver name → fingerprint, as last audited (receiver.enabled / changed / disabled). */
  get receiversKnown(): string {
    return `${this.prefix}:receivers:known`;
  }
  /**
   * Hash: worker id → the configured receivers its running configuration has enabled (a JSON array
   * of names; src/ssf/receivers-on.ts), written at its start and each reload (lost: again by its upkeep), removed at its stop.
   */
  get receiversOn(): string {
    return `${this.prefix}:receivers:on`;
  }
  /** Hash: a receiver's delivery throttle (its rate limit's window of reservations, `pause_until` after a 429). */
  receiverThrottle(receiver: string): string {
    return `${this.prefix}:ssf:rx:{${tag(receiver)}}:throttle`;
  }
  /** BullMQ prefix (hash-tagged so each queue fits one cluster slot). */
  get bullPrefix(): string {
    return `{${this.prefix}}:bull`;
  }
  /** One of BullMQ's keys for `queue` (`wait`, `active`, `delayed`, …). */
  bullKey(queue: string, part: string): string {
    return `${this.bullPrefix}:${queue}:${part}`;
  }
}
