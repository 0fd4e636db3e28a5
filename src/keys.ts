/**
 * Redis key names. Everything a partition's commit writes — its users' states, risk events,
 * outboxes, sessions, the partition's indexes and position — carries the partition's hash tag
 * (`{p<n>}`), so each commit is one script on one Redis Cluster slot and partitions spread over the
 * cluster's masters. Views over all users (by level, all sessions) are kept per partition and
 * merged when read (src/redis/shards.ts). Keys of the delivery side (src/delivery-keys.ts, its base)
 * carry the user's own tag; markers of entries appended once to a stream are in src/stream-markers.ts.
 */
import { DeliveryKeys } from './delivery-keys.js';
import { partitionOf } from './partition.js';
import { hasHashTag, tag, untag } from './redis/hash-tag.js';

/** Key builder bound to a prefix (and the fixed partition count, `engine.partitions`). */
export class Keys extends DeliveryKeys {
  /** Stream: partition `p`'s routed input (entry ids are the routed events' order keys). */
  partitionIn(p: number): string {
    return `${this.prefix}:{p${p}}:in`;
  }
  /** Hash: user id → the user's risk state (MessagePack), for the users of partition `p`. */
  partitionState(p: number): string {
    return `${this.prefix}:{p${p}}:state`;
  }
  /** Hash: partition `p`'s committed input position (`pos`), the token that committed it, and its attempts (src/engine/poison-guard.ts). */
  partitionPos(p: number): string {
    return `${this.prefix}:{p${p}}:pos`;
  }
  /** Stream: control requests (admin resets) routed in order with the input. */
  get controlStream(): string {
    return `${this.prefix}:control`;
  }
  /** String (PX): the outcome of control request `id` for a user of partition `p`, written by the partition's commit. */
  controlResult(p: number, id: string): string {
    return `${this.prefix}:{p${p}}:control:result:${tag(id)}`;
  }
  /** The partition numbers 0 … n−1. */
  get partitionList(): number[] {
    return Array.from({ length: this.partitions }, (_, i) => i);
  }
  /** Prefix of a user's keys that live in the user's partition: `<prefix>:{p<n>}:u:<user>`. */
  private userInPartition(user: string): string {
    return `${this.prefix}:{p${this.partitionOf(user)}}:u:${tag(user)}`;
  }

  /** The partition of a user. */
  partitionOf(user: string): number {
    return partitionOf(user, this.partitions);
  }
  /** Hash holding the user's risk state (field: the user id; value: MessagePack). */
  userState(user: string): string {
    return this.partitionState(this.partitionOf(user));
  }
  /** Stream: the user's risk events (behavior hits, level changes, resets). */
  userEvents(user: string): string {
    return `${this.userInPartition(user)}:events`;
  }
  /** Stream: level changes committed but not yet relayed to the delivery queue. */
  userOutbox(user: string): string {
    return `${this.userInPartition(user)}:outbox`;
  }
  /** String (TTL): set once a response policy's trigger (src/sessions/response-policy.ts) has run for the user. */
  userPolicyDone(user: string, marker: string): string {
    return `${this.prefix}:u:{${tag(user)}}:policy:${marker}`;
  }
  /** Sorted set: the user's session ids scored by expiry (ms). */
  userSessions(user: string): string {
    return `${this.userInPartition(user)}:sessions`;
  }
  /** Hash: device id → latest device identity JSON (registry identity). */
  userDevices(user: string): string {
    return `${this.userInPartition(user)}:devices`;
  }

  /** SCAN pattern matching every user's outbox ({@link userOutbox}). */
  get userOutboxPattern(): string {
    return `${this.prefix}:{p*}:u:*:outbox`;
  }
  /** The user of an outbox key ({@link userOutbox}), or undefined for another key. */
  userOfOutbox(key: string): string | undefined {
    const m = /^:\{p\d+\}:u:(.*):outbox$/.exec(key.slice(this.prefix.length));
    return m ? untag(m[1]!) : undefined;
  }

  /** Default input stream for logins (`streams.login` overrides it). */
  get loginStream(): string {
    return `${this.prefix}:login`;
  }
  /** Default input stream for everything else (`streams.activity`). */
  get activityStream(): string {
    return `${this.prefix}:activity`;
  }
  /** Default dead-letter stream (`streams.dead_letter`). */
  get deadLetterStream(): string {
    return `${this.prefix}:dead-letter`;
  }
  /** Default stream of every user's risk events (`streams.risk_events`). */
  get riskEventsStream(): string {
    return `${this.prefix}:risk-events`;
  }
  /** Default audit stream (`streams.audit`). */
  get auditStream(): string {
    return `${this.prefix}:audit`;
  }

  /** Sorted set: partition `p`'s tracked users, scored by level rank * 1e13 + last change ms. */
  usersByLevel(p: number): string {
    return `${this.prefix}:{p${p}}:users:level`;
  }
  /** Sorted set: partition `p`'s users that may be forgotten once idle (src/risk/retention.ts) → the hour of their last applied item (ms). */
  usersIdle(p: number): string {
    return `${this.prefix}:{p${p}}:users:idle`;
  }
  /** Sorted set: partition `p`'s users → next behavior expiry (ms). */
  partitionExpiry(p: number): string {
    return `${this.prefix}:{p${p}}:expiry`;
  }
  /** Sorted set: partition `p`'s users whose outbox may hold entries not yet relayed. */
  outboxPending(p: number): string {
    return `${this.prefix}:{p${p}}:outbox:pending`;
  }
  /** String (PX): held by the one relay passing partition `p`'s outboxes on (src/risk/outbox-relay.ts). */
  outboxRelayLock(p: number): string {
    return `${this.prefix}:{p${p}}:outbox:relaying`;
  }
  /**
   * String (JSON, TTL = session lifetime): a session's stored identity, in partition `p` (its
   * user's: it is written by that partition's commit).
   */
  session(p: number, id: string): string {
    return `${this.prefix}:{p${p}}:session:${tag(id)}`;
  }
  /**
   * String (TTL): a revoked session's tombstone (in the session's slot). Its own namespace: no
   * session id can name it (a session `x:revoked` once shared the key of `x`'s tombstone).
   */
  sessionTombstone(p: number, id: string): string {
    return `${this.prefix}:{p${p}}:revoked-session:${tag(id)}`;
  }
  /**
   * Sorted set (TTL): one source IP's recent failed logins for password_spray, scored by event time
   * (members `["f", user, event id]`; successes: {@link ipSuccesses}); bounded by count and age. Its own hash tag: the IP's
   * state is not any user's. Named by the tallies' generation (`gen`, {@link ipSprayGeneration}; 0 unnamed).
   */
  ipLogins(ip: string, gen = 0): string {
    return `${this.prefix}:ip:{${tag(ip)}}:${gen ? `g${gen}:` : ''}logins`;
  }
  /** Sorted set (TTL): one source IP's recent successful logins (failures: {@link ipLogins}); same hash tag and generation. */
  ipSuccesses(ip: string, gen = 0): string {
    return `${this.prefix}:ip:{${tag(ip)}}:${gen ? `g${gen}:` : ''}successes`;
  }
  /** Counter: the generation of password_spray's per-IP tallies, bumped while no password_spray is on (src/ingest/spray-generation.ts). */
  ipSprayGeneration(): string {
    return `${this.prefix}:ip-spray:generation`;
  }
  /**
   * Hash: when each behavior was last turned on, shared by the workers (src/engine/behavior-epochs.ts):
   * `epoch` (a counter), `on:<behavior id>` (the epoch it was last turned on at; 0 = not since
   * recorded), `off:<behavior id>` (set while a worker started or reloaded with it off). One key: one slot.
   */
  behaviorEpochs(): string {
    return `${this.prefix}:behaviors:epochs`;
  }
  /** Sorted set: partition `p`'s session ids scored by login time (ms); pruned by expiry. */
  sessionsByLogin(p: number): string {
    return `${this.prefix}:{p${p}}:sessions:login`;
  }
  /** Sorted set: partition `p`'s session ids scored by expiry (ms). */
  sessionsByExpiry(p: number): string {
    return `${this.prefix}:{p${p}}:sessions:expiry`;
  }
  /** Hash: revocation id → a session revocation of partition `p` not yet audited and queued (src/sessions/revocation.ts). */
  revocationNotices(p: number): string {
    return `${this.prefix}:{p${p}}:sessions:revoke-notices`;
  }
  /** String (PX): a leased engine resource's fencing token `workerId#epoch` (resource `p<n>` or `r:<stream>`). */
  engineLease(resource: string): string {
    return `${this.prefix}:{${tag(resource)}}:lease`;
  }
  /** Counter: a leased resource's last fencing epoch (INCR per acquisition, never reused; same hash tag as its lease). */
  engineEpoch(resource: string): string {
    return `${this.prefix}:{${tag(resource)}}:epoch`;
  }
  /**
   * String: the token of the router allowed to read input stream `stream` (router-fence-1.lua); in
   * the stream's hash slot (its own hash tag if it has one, else the whole name as the tag).
   */
  routerFence(stream: string): string {
    return hasHashTag(stream) ? `${stream}:router-fence` : `{${stream}}:router-fence`;
  }
  /** Sorted set: member `top` scored by the newest entry (ms) of input stream `stream` routed or dead-lettered, and the last routing step's `step` (its nonce) and `before` (the mark it found: src/redis/scripts/routed-mark-1.lua) (engine/routed-tops.ts); in its slot. */
  routedTop(stream: string): string {
    return hasHashTag(stream) ? `${stream}:routed-top` : `{${stream}}:routed-top`;
  }
  /** Sorted set: engine workers, scored by their last heartbeat (ms, Redis server clock). */
  get engineMembers(): string {
    return `${this.prefix}:engine:members`;
  }
  /** String: the `engine.partitions` the prefix's data was written with (set by the first worker; lost, set again by the running ones). */
  get enginePartitions(): string {
    return `${this.prefix}:engine:partitions`;
  }
  /** String (PX): the pid holding a claimed worker identity `<host>-<n>`. */
  engineWorkerId(id: string): string {
    return `${this.prefix}:engine:id:${id}`;
  }
  /** SCAN patterns covering every key under the prefix: riskstream's own and BullMQ's (`route[rd]-*`: router fences and routed marks). */
  get ownedPatterns(): string[] {
    return [`${this.prefix}:*`, `{${this.prefix}}:*`, `{${this.prefix}:*}:route[rd]-*`, `{${this.prefix}:*}:seen:*`, `{${this.prefix}:*}:ingest-chunk:*`];
  }
}
