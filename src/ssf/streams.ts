import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import type { SigningAlg } from '../types.js';
import { scriptsOn } from '../redis/scripts.js';
import { hashCas } from '../redis/hash-cas.js';
import { markStreamChanged } from './stream-cache.js';
import { waitStreamSends } from './stream-fence.js';
import type { SsfStream, StreamStatus } from './stream-record.js';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED } from './set-builder.js';
import { STREAM_EVENTS } from '../event-types.js';

/** Push delivery, the only method riskstream transmits with. */
export const PUSH_METHOD = 'urn:ietf:rfc:8935';

/** What a stream's configuration shows for a stored `authorization_header` (never the secret). */
export const MASKED_HEADER = '[set]';

/** What `events_supported` lists: the event types a stream can request. */
export const EVENTS_SUPPORTED = Object.keys(STREAM_EVENTS);
/** `events_requested` when a create or replace (PUT, SSF §8.1.1.4) leaves it out. */
export const DEFAULT_EVENTS = [CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED];

/** Limits on self-registered streams (`ssf.limits`). */
export type StreamLimits = RiskstreamFileConfig['ssf']['limits'];

export type { SsfStream, StreamStatus } from './stream-record.js';

/**
 * The stream configuration as SSF 1.0 returns it (`minVerification` in seconds). `events_delivered`
 * is the intersection of `events_supported` and `events_requested` (SSF 1.0 §8.1.1): each event
 * type once, in the order requested, however often `events_requested` repeats it.
 */
export function streamView(s: SsfStream, issuer: string, minVerification = 0): Record<string, unknown> {
  const delivered = [...new Set(s.events_requested.filter((e) => EVENTS_SUPPORTED.includes(e)))];
  return {
    stream_id: s.stream_id,
    iss: issuer,
    aud: s.aud,
    events_supported: EVENTS_SUPPORTED,
    events_requested: s.events_requested,
    events_delivered: delivered,
    delivery: { method: PUSH_METHOD, endpoint_url: s.endpoint_url, ...(s.authorization_header ? { authorization_header: MASKED_HEADER } : {}) },
    min_verification_interval: minVerification,
    ...(s.description ? { description: s.description } : {}),
  };
}

/** Receiver name of a stream (what job data and audit entries carry). */
export function streamReceiverName(id: string): string {
  return `ssf-stream-${id}`;
}

/**
 * A stream as a delivery receiver (enabled only while the stream is `enabled`); its SETs are
 * signed with `alg` (the main signing key's).
 */
export function streamReceiver(s: SsfStream, alg: SigningAlg = 'ES256'): ResolvedReceiver {
  // Own keys only: a requested `constructor` or `__proto__` is no event type (not Object's members).
  const events = [...new Set(s.events_requested.filter((e) => Object.hasOwn(STREAM_EVENTS, e)).map((e) => STREAM_EVENTS[e]!))];
  return {
    name: streamReceiverName(s.stream_id),
    streamId: s.stream_id,
    kind: 'ssf',
    endpoint: s.endpoint_url,
    audience: s.aud,
    subject_format: 'email',
    events,
    alg,
    timeout: 10_000,
    enabled: s.status === 'enabled',
    ...(s.status === 'paused' ? { paused: true } : {}),
    ...(s.authorization_header ? { authorizationValue: s.authorization_header } : {}),
    ...(s.removed_subjects.length ? { removedSubjects: s.removed_subjects } : {}),
    ...(s.resumed_at !== undefined ? { queuedAfter: s.resumed_at } : {}),
  };
}

/**
 * A self-registered stream as a delivery receiver with `timeout` (`ssf.timeout`). `revoked` (it was
 * created with a token no longer configured): off, marked `ownerRevoked` with its owner, never paused.
 */
export function streamDeliveryReceiver(s: SsfStream, alg: SigningAlg, timeout: number, revoked: boolean): ResolvedReceiver {
  const r: ResolvedReceiver = { ...streamReceiver(s, alg), timeout, selfRegistered: true };
  if (!revoked) return r;
  const { paused: _paused, ...off } = r;
  return { ...off, enabled: false, ownerRevoked: true, ...(s.owner !== undefined ? { owner: s.owner } : {}) };
}

/** The status of the stream a receiver from {@link streamReceiver} stands for. */
export function streamStatusOf(r: ResolvedReceiver): StreamStatus {
  return r.enabled ? 'enabled' : r.paused ? 'paused' : 'disabled';
}

/** A new stream of `owner` from validated fields; `aud` is the endpoint's origin (SSF §8.1.1: transmitter-supplied). */
export function newStream(fields: Partial<SsfStream>, owner: string | undefined, id: string, now: number): SsfStream {
  if (!fields.endpoint_url) throw new RiskstreamError('BAD_REQUEST', 'delivery.endpoint_url is required');
  return {
    stream_id: id,
    ...(owner !== undefined ? { owner } : {}),
    aud: new URL(fields.endpoint_url).origin,
    endpoint_url: fields.endpoint_url,
    ...(fields.authorization_header ? { authorization_header: fields.authorization_header } : {}),
    events_requested: fields.events_requested ?? DEFAULT_EVENTS,
    ...(fields.description ? { description: fields.description } : {}),
    status: 'enabled',
    removed_subjects: [],
    created_at: now,
    updated_at: now,
  };
}

/** Streams in Redis (a hash: stream id → JSON), plus SETs held while a stream is paused. */
export class SsfStreamStore {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: Keys,
  ) {}

  async list(): Promise<SsfStream[]> {
    const all = await this.redis.hgetall(this.keys.ssfStreams);
    return Object.values(all)
      .map((v) => JSON.parse(v) as SsfStream)
      .sort((a, b) => a.created_at - b.created_at);
  }

  /** The stream, or undefined when there is none. */
  async find(id: string): Promise<SsfStream | undefined> {
    const v = await this.redis.hget(this.keys.ssfStreams, id);
    return v ? (JSON.parse(v) as SsfStream) : undefined;
  }

  async get(id: string): Promise<SsfStream> {
    const s = await this.find(id);
    if (!s) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
    return s;
  }

  /**
   * Stores a new stream (`fields` over {@link newStream}'s defaults) unless its owner already has
   * `maxPerOwner` streams (checked atomically; STREAM_LIMIT).
   */
  async create(fields: Partial<SsfStream>, maxPerOwner = Number.MAX_SAFE_INTEGER, now = Date.now()): Promise<SsfStream> {
    const s: SsfStream = { ...newStream(fields, fields.owner, fields.stream_id ?? randomUUID(), now), ...fields };
    const ok = await scriptsOn(this.redis).ssfStreamCreate(this.keys.ssfStreams, s.owner ?? '', String(maxPerOwner), s.stream_id, JSON.stringify(s));
    if (ok !== 1) throw new RiskstreamError('STREAM_LIMIT', `this token already owns ${maxPerOwner} streams (ssf.limits.streams_per_owner)`);
    await markStreamChanged(this.redis, this.keys, s.stream_id);
    return s;
  }

  /** Each stream's updates in this process, one at a time (the tail of its queue). */
  private readonly updating = new Map<string, Promise<unknown>>();

  /**
   * Applies `change` to a stream (compare-and-set in Lua, so concurrent updates never clobber).
   * This process's updates of one stream run one after another, so only other workers' writes
   * can make the compare fail (then it reads again, a few times). Resolves once no push decided
   * on the stream as it was can still arrive (src/ssf/stream-fence.ts); {@link delete} too.
   */
  update(id: string, change: (s: SsfStream) => SsfStream): Promise<SsfStream> {
    // The queue's tail never rejects (a failed update is its caller's): the next one just follows it.
    const run = (this.updating.get(id) ?? Promise.resolve()).then(() => this.casUpdate(id, change));
    const tail = run.catch(() => undefined);
    this.updating.set(id, tail);
    void tail.then(() => {
      if (this.updating.get(id) === tail) this.updating.delete(id);
    });
    return run;
  }

  private async casUpdate(id: string, change: (s: SsfStream) => SsfStream): Promise<SsfStream> {
    for (let i = 0; i < 10; i++) {
      const v = await this.redis.hget(this.keys.ssfStreams, id);
      if (!v) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
      const next = { ...change(JSON.parse(v) as SsfStream), updated_at: Date.now() };
      if (await hashCas(this.redis, this.keys.ssfStreams, id, v, JSON.stringify(next))) {
        await markStreamChanged(this.redis, this.keys, id);
        await waitStreamSends(this.redis, this.keys, id); // no push decided on the old stream arrives after the answer
        return next;
      }
    }
    throw new RiskstreamError('COMMIT_CONFLICT', `stream ${id} is being changed concurrently`);
  }

  async delete(id: string): Promise<void> {
    const n = await this.redis.hdel(this.keys.ssfStreams, id);
    if (!n) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
    await markStreamChanged(this.redis, this.keys, id);
    await waitStreamSends(this.redis, this.keys, id);
    await Promise.all([this.redis.del(this.heldKey(id)), this.redis.del(this.verifyKey(id))]); // two slots on a cluster
  }

  /** Key of the list of SETs held while the stream is paused. */
  heldKey(id: string): string {
    return this.keys.ssfHeld(id);
  }

  /** Key (PX = `min_verification_interval`) set by a stream's last verification request. */
  verifyKey(id: string): string {
    return this.keys.ssfVerify(id);
  }
}
