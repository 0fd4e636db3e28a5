import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { Config, ResolvedReceiver } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import type { LevelChange } from '../types.js';
import { enqueueLevelChange, enqueueSessionRevoked, enqueueVerification, type SetQueue } from './queue.js';
import type { SessionRevoked } from './set-builder.js';
import { SsfStreamStore, streamReceiver, streamReceiverName, streamView, type SsfStream, type StreamStatus } from './streams.js';

type Held = { kind: 'change'; change: LevelChange } | { kind: 'revoked'; revoked: SessionRevoked };

/**
 * The stream service for a configuration: streams in Redis, SETs to `queue`, signed with the
 * configured `signing.alg`, with the configured `issuer`.
 */
export function createStreamService(redis: Redis, keys: Keys, queue: SetQueue, audit: AuditLog, config: () => Config): StreamService {
  return new StreamService(redis, new SsfStreamStore(redis, keys), queue, audit, () => config().raw.issuer, 1000, () => config().raw.signing.alg);
}

/**
 * The SSF stream management side: receivers that registered themselves (create / read / update /
 * delete, status, subjects, verification) become delivery receivers without a restart. Events for
 * a paused stream are held in Redis and delivered on resume; a disabled stream gets nothing.
 */
export class StreamService {
  private cache: { at: number; streams: SsfStream[] } = { at: 0, streams: [] };

  constructor(
    private readonly redis: Redis,
    readonly store: SsfStreamStore,
    private readonly queue: SetQueue,
    private readonly audit: AuditLog,
    private readonly issuer: () => string,
    private readonly refreshMs = 1000,
    /** The algorithm streams' SETs are signed with (the configured `signing.alg`). */
    private readonly alg: () => 'ES256' | 'RS256' = () => 'ES256',
  ) {}

  private receiver(s: SsfStream): ResolvedReceiver {
    return streamReceiver(s, this.alg());
  }

  /** Streams, refreshed from Redis at most every `refreshMs` (other workers' changes show up). */
  async streams(force = false): Promise<SsfStream[]> {
    if (force || Date.now() - this.cache.at > this.refreshMs) this.cache = { at: Date.now(), streams: await this.store.list() };
    return this.cache.streams;
  }

  /** The cached stream receivers (sync, for the delivery registry). */
  receiversNow(): ResolvedReceiver[] {
    return this.cache.streams.map((s) => this.receiver(s));
  }

  view(s: SsfStream): Record<string, unknown> {
    return streamView(s, this.issuer());
  }

  async create(fields: Partial<SsfStream>, actor: string): Promise<SsfStream> {
    const s = await this.store.create(fields);
    await this.audit.write({ action: 'receiver.enabled', actor, target: streamReceiverName(s.stream_id), details: { stream_id: s.stream_id, endpoint: s.endpoint_url, events: s.events_requested } });
    await this.streams(true);
    return s;
  }

  async update(id: string, fields: Partial<SsfStream>, actor: string, replace = false): Promise<SsfStream> {
    const s = await this.store.update(id, (cur) => ({
      ...cur,
      ...(replace ? { description: undefined, authorization_header: undefined } : {}),
      ...fields,
    }));
    await this.audit.write({ action: 'receiver.changed', actor, target: streamReceiverName(id), details: { stream_id: id, endpoint: s.endpoint_url, events: s.events_requested } });
    await this.streams(true);
    return s;
  }

  async delete(id: string, actor: string): Promise<void> {
    await this.store.delete(id);
    await this.audit.write({ action: 'receiver.disabled', actor, target: streamReceiverName(id), details: { stream_id: id, deleted: true } });
    await this.streams(true);
  }

  /** Sets a stream's status; resuming (→ enabled) delivers what was held while paused. */
  async setStatus(id: string, status: StreamStatus, reason: string | undefined, actor: string): Promise<SsfStream> {
    if (!['enabled', 'paused', 'disabled'].includes(status)) throw new RiskstreamError('BAD_REQUEST', 'status must be enabled, paused or disabled');
    const before = await this.store.get(id);
    const s = await this.store.update(id, (cur) => ({ ...cur, status, ...(reason ? { reason } : {}) }));
    await this.audit.write({ action: status === 'enabled' ? 'receiver.enabled' : 'receiver.disabled', actor, target: streamReceiverName(id), details: { stream_id: id, status, previous: before.status, reason } });
    await this.streams(true);
    if (status === 'enabled') await this.release(s);
    if (status === 'disabled') await this.redis.del(this.store.heldKey(id));
    return s;
  }

  async subjects(id: string, subject: unknown, op: 'add' | 'remove', actor: string): Promise<void> {
    const key = subjectKey(subject);
    await this.store.update(id, (cur) => ({
      ...cur,
      removed_subjects: op === 'remove' ? [...new Set([...cur.removed_subjects, key])] : cur.removed_subjects.filter((x) => x !== key),
    }));
    await this.audit.write({ action: `receiver.subject_${op === 'add' ? 'added' : 'removed'}`, actor, target: streamReceiverName(id), details: { stream_id: id, subject: key } });
    await this.streams(true);
  }

  /** Queues an SSF verification SET carrying `state` to the stream. */
  async verify(id: string, state: string | undefined): Promise<void> {
    const s = await this.store.get(id);
    if (s.status === 'disabled') throw new RiskstreamError('BAD_REQUEST', 'stream is disabled');
    await this.streams(true);
    await enqueueVerification(this.queue, streamReceiverName(id), randomUUID(), state);
  }

  /** Queues level changes to every enabled stream; holds them for paused ones. */
  async onChanges(changes: LevelChange[]): Promise<void> {
    const streams = await this.streams();
    for (const s of streams) {
      const wanted = changes.filter((c) => !s.removed_subjects.includes(c.user));
      if (!wanted.length || s.status === 'disabled') continue;
      if (s.status === 'paused') await this.hold(s, wanted.map((change) => ({ kind: 'change', change })));
      else for (const c of wanted) await enqueueLevelChange(this.queue, c, [this.receiver(s)]);
    }
  }

  /** Queues a session revocation to every enabled stream; holds it for paused ones. */
  async onRevoked(revoked: SessionRevoked): Promise<void> {
    for (const s of await this.streams()) {
      if (s.status === 'disabled' || s.removed_subjects.includes(revoked.user)) continue;
      if (s.status === 'paused') await this.hold(s, [{ kind: 'revoked', revoked }]);
      else await enqueueSessionRevoked(this.queue, revoked, [this.receiver(s)]);
    }
  }

  private async hold(s: SsfStream, items: Held[]): Promise<void> {
    await this.redis.rpush(this.store.heldKey(s.stream_id), ...items.map((i) => JSON.stringify(i)));
  }

  private async release(s: SsfStream): Promise<void> {
    const key = this.store.heldKey(s.stream_id);
    const items = (await this.redis.lrange(key, 0, -1)).map((v) => JSON.parse(v) as Held);
    const rx = this.receiver(s);
    for (const i of items) {
      if (i.kind === 'change') await enqueueLevelChange(this.queue, i.change, [rx]);
      else await enqueueSessionRevoked(this.queue, i.revoked, [rx]);
    }
    if (items.length) await this.redis.ltrim(key, items.length, -1);
  }
}

/** The key a subject is tracked by: its email, opaque id, or `iss|sub`. */
export function subjectKey(subject: unknown): string {
  if (!subject || typeof subject !== 'object') throw new RiskstreamError('BAD_REQUEST', 'subject must be an RFC 9493 subject identifier object');
  const s = subject as Record<string, unknown>;
  const inner = (s.format === 'complex' ? s.user : s) as Record<string, unknown> | undefined;
  if (inner?.format === 'email' && typeof inner.email === 'string') return inner.email.toLowerCase();
  if (inner?.format === 'opaque' && typeof inner.id === 'string') return inner.id;
  if (inner?.format === 'iss_sub' && typeof inner.sub === 'string') return String(inner.sub);
  throw new RiskstreamError('BAD_REQUEST', 'subject: supported formats are email, opaque, iss_sub (or complex with a user)');
}
