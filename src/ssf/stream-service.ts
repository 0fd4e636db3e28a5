import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import { riskstreamSchema, type RiskstreamFileConfig } from '../config/schema.js';
import { RiskstreamError } from '../errors.js';
import { scrubKnown } from '../secrets/known-secrets.js';
import { receiverSecrets } from './display-endpoint.js';
import type { LevelChange, SigningAlg } from '../types.js';
import { enqueueStreamUpdated, enqueueVerification, type SetQueue } from './queue.js';
import type { SessionRevoked } from './set-builder.js';
import { EndpointPolicy, type Resolver } from './endpoint-policy.js';
import { HeldSets } from './stream-held.js';
import { StreamCache } from './stream-cache.js';
import { mayAccess, type StreamCaller } from './stream-owner.js';
import { newStream, SsfStreamStore, streamDeliveryReceiver, streamReceiverName, streamView } from './streams.js';
import type { SsfStream, StreamLimits, StreamStatus } from './streams.js';
import { checkTransmitterSupplied } from './transmitter-supplied.js';
import { checkSubjectLength, subjectKey } from './subject-key.js';
import { streamDeleted, streamStatusSet, streamSubject, streamWritten } from './stream-audit.js';
import { fanOutChanges, fanOutRevoked, type FanOut } from './stream-fanout.js';
import { statusChange, subjectsChange, updatedStream } from './stream-update.js';
import { checkVerification, claimVerification } from './stream-verify.js';

type SsfSettings = RiskstreamFileConfig['ssf'];
const SSF_DEFAULTS: SsfSettings = riskstreamSchema.parse({}).ssf;

/** A create/update request: the validated Receiver-Supplied fields and the raw body (for Transmitter-Supplied checks). */
export interface StreamRequest {
  fields: Partial<SsfStream>;
  body: Record<string, unknown>;
}

/**
 * The SSF stream management side: receivers that registered themselves (create / read / update /
 * delete, status, subjects, verification) become delivery receivers without a restart. Every
 * management call is scoped to the caller's own streams (another caller gets NOT_FOUND; admin
 * callers see all). Events for a paused stream are held in Redis and delivered on resume; a
 * disabled stream gets nothing.
 */
export class StreamService {
  private readonly cache: StreamCache;
  private readonly held: HeldSets;
  private readonly fanOut: FanOut;
  private syncedAt = 0;
  /** Called with each stream this service created, before {@link create} resolves (the runtime records its owner). */
  onCreated?: (s: SsfStream) => Promise<void>;
  /** Called, not awaited, with each deleted stream's receiver name (the runtime removes its delivery records). */
  onDeleted?: (receiver: string) => void;

  constructor(
    private readonly redis: RedisClient,
    readonly store: SsfStreamStore,
    private readonly queue: SetQueue,
    private readonly audit: AuditLog,
    private readonly issuer: () => string,
    private readonly refreshMs = 1000,
    /** The algorithm streams' SETs are signed with (the configured `signing.alg`). */
    private readonly alg: () => SigningAlg = () => 'ES256',
    /** The config's `ssf` block: endpoint policy, timeout, held-list cap, `limits`. */
    private readonly ssf: () => SsfSettings = () => SSF_DEFAULTS,
    /** Host name resolver for the endpoint policy (tests inject one). */
    private readonly resolver?: Resolver,
    /** The owner ids of the tokens configured now (`ownersOf`, stream-owner.ts); undefined: no stream is revoked. */
    private readonly owners?: () => ReadonlySet<string>,
  ) {
    this.cache = new StreamCache(redis, store.keys);
    const receiver = (s: SsfStream): ResolvedReceiver => this.receiver(s);
    this.held = new HeldSets(redis, store, queue, audit, this.maxHeld, receiver);
    this.fanOut = { held: this.held, receiver, revoked: (s) => this.revoked(s) };
  }

  private readonly maxHeld = (): number => this.ssf().max_held;

  /** `ssf.limits` (streams per owner, verification interval, field sizes). */
  private limits(): StreamLimits {
    return this.ssf().limits;
  }

  /** True when `s` was created with a token no longer configured: it gets nothing. */
  revoked(s: SsfStream): boolean {
    return s.owner !== undefined && this.owners !== undefined && !this.owners().has(s.owner);
  }

  /** A stream as a delivery receiver: self-registered, with the short `ssf.timeout`; off while its token is revoked. */
  private receiver(s: SsfStream): ResolvedReceiver {
    return streamDeliveryReceiver(s, this.alg(), this.ssf().timeout, this.revoked(s));
  }

  /** Refuses (ENDPOINT_REFUSED, 400) an endpoint the egress policy does not allow. */
  private async checkEndpoint(fields: Partial<SsfStream>): Promise<void> {
    if (fields.endpoint_url !== undefined) await new EndpointPolicy(this.ssf().allowed_endpoints, this.resolver).check(fields.endpoint_url);
  }

  /**
   * Streams, with other workers' changes applied at most every `refreshMs` (`force`: now).
   * Only streams that changed are re-read (see {@link StreamCache}).
   */
  async streams(force = false): Promise<SsfStream[]> {
    if (force || Date.now() - this.syncedAt > this.refreshMs) {
      this.syncedAt = Date.now();
      await this.cache.sync();
    }
    return this.cache.list();
  }

  /** The cached stream receivers (sync, for the delivery registry). */
  receiversNow(): ResolvedReceiver[] {
    return this.cache.list().map((s) => this.receiver(s));
  }

  /** The stream configuration as SSF returns it. */
  view(s: SsfStream): Record<string, unknown> {
    return streamView(s, this.issuer(), Math.ceil(this.limits().min_verification_interval / 1000));
  }

  /** A stream the caller may see (NOT_FOUND otherwise: another caller's stream looks absent). */
  async get(id: string, caller: StreamCaller): Promise<SsfStream> {
    const s = await this.store.get(id);
    if (!mayAccess(caller, s.owner)) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
    return s;
  }

  /** The caller's streams (every stream for an admin caller), read from Redis, not the cache. */
  async list(caller: StreamCaller): Promise<SsfStream[]> {
    return (await this.store.list()).filter((s) => mayAccess(caller, s.owner));
  }

  /** Creates a stream owned by the caller; `aud` is the endpoint's origin, never the caller's choice. */
  async create(req: StreamRequest, caller: StreamCaller, actor: string): Promise<SsfStream> {
    await this.checkEndpoint(req.fields);
    const candidate = newStream(req.fields, caller.owner, randomUUID(), Date.now());
    checkTransmitterSupplied(req.body, this.view(candidate));
    const s = await this.store.create(candidate, this.limits().streams_per_owner);
    await this.audit.write(streamWritten('receiver.enabled', s, actor));
    await this.streams(true);
    await this.onCreated?.(s);
    return s;
  }

  /**
   * PATCH (or PUT with `replace`: missing Receiver-Supplied properties are deleted, defaults apply,
   * SSF §8.1.1.4). Transmitter-Supplied properties must match (§8.1.1.3). A new `endpoint_url`
   * drops the stored `authorization_header` unless the request brings one, and must keep the
   * origin `aud` was derived from ({@link updatedStream}).
   */
  async update(id: string, req: StreamRequest, caller: StreamCaller, actor: string, replace = false): Promise<SsfStream> {
    const { fields } = req;
    await this.checkEndpoint(fields);
    const s = await this.change(id, caller, (cur) => {
      checkTransmitterSupplied(req.body, this.view(cur));
      return updatedStream(cur, fields, replace);
    });
    await this.audit.write(streamWritten('receiver.changed', s, actor));
    await this.streams(true);
    return s;
  }

  async delete(id: string, caller: StreamCaller, actor: string): Promise<void> {
    await this.get(id, caller);
    await this.store.delete(id);
    await this.audit.write(streamDeleted(id, actor));
    await this.streams(true);
    this.onDeleted?.(streamReceiverName(id));
  }

  /**
   * Sets a stream's status ({@link statusChange}); resuming (→ enabled) delivers what was held while
   * paused. A change by another caller than the stream's owner (an admin) is announced with a
   * stream-updated SET.
   */
  async setStatus(id: string, status: StreamStatus, reason: string | undefined, caller: StreamCaller, actor: string): Promise<SsfStream> {
    if (!['enabled', 'paused', 'disabled'].includes(status)) throw new RiskstreamError('BAD_REQUEST', 'status must be enabled, paused or disabled');
    const before = await this.get(id, caller);
    // The stream's own push credentials pasted into it (its header; its endpoint URL's user, password and query
    // values, which the audit log shows redacted) are taken out as a configured receiver's are (the route scrubbed the rest).
    if (reason !== undefined) reason = scrubKnown(reason, receiverSecrets(before.authorization_header, before.endpoint_url));
    const s = await this.change(id, caller, (cur) => statusChange(cur, status, reason, Date.now(), cur.owner !== caller.owner, caller.admin));
    await this.audit.write(streamStatusSet(id, status, before.status, reason, actor));
    await this.streams(true);
    // Set by the transmitter (an admin), not asked by the stream's receiver: announced (SSF 1.0 §8.1.5).
    if (status !== before.status && before.owner !== caller.owner) await enqueueStreamUpdated(this.queue, streamReceiverName(id), randomUUID(), status, reason);
    if (status === 'enabled') await this.held.release(s);
    if (status === 'disabled') await this.held.drop(id);
    return s;
  }

  async subjects(id: string, subject: unknown, op: 'add' | 'remove', caller: StreamCaller, actor: string): Promise<void> {
    const { removed_subjects: max, subject_length: maxLength } = this.limits();
    const key = subjectKey(subject);
    checkSubjectLength(key, maxLength);
    await this.change(id, caller, (cur) => subjectsChange(cur, subject, key, op, max));
    await this.audit.write(streamSubject(id, key, op, actor));
    await this.streams(true);
  }

  /**
   * Queues an SSF verification SET carrying `state` to the stream; at most one per
   * `min_verification_interval` (RATE_LIMITED with `retryAfter` seconds, SSF §8.1.4.2); refused
   * as {@link checkVerification} says.
   */
  async verify(id: string, state: string | undefined, caller: StreamCaller): Promise<void> {
    const s = await this.get(id, caller);
    checkVerification(s, state, caller);
    const interval = this.limits().min_verification_interval;
    await claimVerification(this.redis, this.store.verifyKey(id), interval);
    await this.streams(true);
    await enqueueVerification(this.queue, streamReceiverName(id), randomUUID(), state);
  }

  /** Applies `change` to a stream the caller may access (re-checked on every compare-and-set try). */
  private change(id: string, caller: StreamCaller, change: (s: SsfStream) => SsfStream): Promise<SsfStream> {
    return this.store.update(id, (cur) => {
      if (!mayAccess(caller, cur.owner)) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
      return change(cur);
    });
  }

  /**
   * Queues level changes to every enabled stream; holds them for paused ones. `only: 'enabled'`
   * skips the paused ones (the early enqueue of committed changes: the relay holds them);
   * `queue`: the queue to add to (another connection's, for the early enqueue). The relay's pass
   * (no `only`) reads the streams afresh: a stream another worker created before the
   * changes were committed gets them — the cache may be a second old. The early enqueue may use
   * the cache: the relay's pass follows it. No changes (a relay pass of hits only): nothing read.
   */
  async onChanges(changes: LevelChange[], only?: 'enabled', queue: SetQueue = this.queue): Promise<void> {
    if (!changes.length) return;
    await fanOutChanges(this.fanOut, await this.streams(only === undefined), changes, only, queue);
  }

  /** Queues a session revocation to every enabled stream (read afresh, as the relay's pass); holds it for paused ones. */
  async onRevoked(revoked: SessionRevoked): Promise<void> {
    await fanOutRevoked(this.fanOut, await this.streams(true), revoked, this.queue);
  }
}
