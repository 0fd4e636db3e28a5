import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ResolvedReceiver } from '../config/load.js';
import type { ReceiverEvent } from '../config/schema.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, OKTA_USER_RISK_CHANGE, SSF_VERIFICATION } from './set-builder.js';

/** Push delivery, the only method riskstream transmits with. */
export const PUSH_METHOD = 'urn:ietf:rfc:8935';

/** Event types a stream can request, and riskstream's name for each. */
export const STREAM_EVENTS: Record<string, ReceiverEvent> = {
  [CAEP_RISK_LEVEL_CHANGE]: 'risk-level-change',
  [OKTA_USER_RISK_CHANGE]: 'risk-level-change',
  [CAEP_SESSION_REVOKED]: 'session-revoked',
  [SSF_VERIFICATION]: 'verification',
};
/** What `events_supported` lists. */
export const EVENTS_SUPPORTED = [CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, SSF_VERIFICATION];

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** A stream registered by an SSF receiver through the management API (stored in Redis). */
export interface SsfStream {
  stream_id: string;
  aud: string;
  endpoint_url: string;
  /** Sent as the Authorization header on every push (secret: never returned in full). */
  authorization_header?: string;
  events_requested: string[];
  description?: string;
  status: StreamStatus;
  reason?: string;
  /** Subjects removed from the default (ALL), by email / id. */
  removed_subjects: string[];
  created_at: number;
  updated_at: number;
}

/** The stream configuration as SSF 1.0 returns it. */
export function streamView(s: SsfStream, issuer: string): Record<string, unknown> {
  const delivered = s.events_requested.filter((e) => EVENTS_SUPPORTED.includes(e));
  return {
    stream_id: s.stream_id,
    iss: issuer,
    aud: s.aud,
    events_supported: EVENTS_SUPPORTED,
    events_requested: s.events_requested,
    events_delivered: delivered,
    delivery: { method: PUSH_METHOD, endpoint_url: s.endpoint_url, ...(s.authorization_header ? { authorization_header: '[set]' } : {}) },
    min_verification_interval: 0,
    ...(s.description ? { description: s.description } : {}),
  };
}

/** Receiver name of a stream (what job data and audit entries carry). */
export function streamReceiverName(id: string): string {
  return `ssf-stream-${id}`;
}

/** The delivery receiver a stream stands for (enabled only while the stream is `enabled`). */
/** A stream as a delivery receiver; its SETs are signed with `alg` (the main signing key's). */
export function streamReceiver(s: SsfStream, alg: 'ES256' | 'RS256' = 'ES256'): ResolvedReceiver {
  const events = [...new Set(s.events_requested.map((e) => STREAM_EVENTS[e]).filter((e): e is ReceiverEvent => !!e))];
  return {
    name: streamReceiverName(s.stream_id),
    kind: 'ssf',
    endpoint: s.endpoint_url,
    audience: s.aud,
    subject_format: 'email',
    events,
    alg,
    timeout: 10_000,
    enabled: s.status === 'enabled',
    ...(s.authorization_header ? { authorizationValue: s.authorization_header } : {}),
  };
}

function validUrl(u: unknown, what: string): string {
  if (typeof u !== 'string') throw new RiskstreamError('BAD_REQUEST', `${what} is required`);
  try {
    const url = new URL(u);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new RiskstreamError('BAD_REQUEST', `${what} must be an http(s) URL`);
  }
  return u;
}

/** Validates a create/update body into stream fields. */
export function parseStreamBody(body: unknown, partial: boolean): Partial<SsfStream> {
  if (!body || typeof body !== 'object') throw new RiskstreamError('BAD_REQUEST', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  const out: Partial<SsfStream> = {};
  if (b.delivery !== undefined || !partial) {
    const d = (b.delivery ?? {}) as Record<string, unknown>;
    if (d.method !== undefined && d.method !== PUSH_METHOD) throw new RiskstreamError('BAD_REQUEST', `delivery.method must be ${PUSH_METHOD} (push)`);
    out.endpoint_url = validUrl(d.endpoint_url, 'delivery.endpoint_url');
    if (typeof d.authorization_header === 'string') out.authorization_header = d.authorization_header;
  }
  if (b.events_requested !== undefined) {
    if (!Array.isArray(b.events_requested) || b.events_requested.some((e) => typeof e !== 'string')) {
      throw new RiskstreamError('BAD_REQUEST', 'events_requested must be an array of event type URIs');
    }
    out.events_requested = b.events_requested as string[];
  }
  if (b.aud !== undefined) {
    if (typeof b.aud !== 'string' || !b.aud) throw new RiskstreamError('BAD_REQUEST', 'aud must be a string');
    out.aud = b.aud;
  }
  if (b.description !== undefined) out.description = String(b.description).slice(0, 500);
  return out;
}

const CAS = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end return 0`;

/** Streams in Redis (a hash: stream id → JSON), plus SETs held while a stream is paused. */
export class SsfStreamStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async list(): Promise<SsfStream[]> {
    const all = await this.redis.hgetall(this.keys.ssfStreams);
    return Object.values(all).map((v) => JSON.parse(v) as SsfStream).sort((a, b) => a.created_at - b.created_at);
  }

  async get(id: string): Promise<SsfStream> {
    const v = await this.redis.hget(this.keys.ssfStreams, id);
    if (!v) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
    return JSON.parse(v) as SsfStream;
  }

  async create(fields: Partial<SsfStream>, now = Date.now()): Promise<SsfStream> {
    const s: SsfStream = {
      stream_id: randomUUID(),
      aud: fields.aud ?? new URL(fields.endpoint_url!).origin,
      endpoint_url: fields.endpoint_url!,
      ...(fields.authorization_header ? { authorization_header: fields.authorization_header } : {}),
      events_requested: fields.events_requested ?? [CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED],
      ...(fields.description ? { description: fields.description } : {}),
      status: 'enabled',
      removed_subjects: [],
      created_at: now,
      updated_at: now,
    };
    await this.redis.hset(this.keys.ssfStreams, s.stream_id, JSON.stringify(s));
    return s;
  }

  /** Applies `change` to a stream (compare-and-set in Lua, so concurrent updates never clobber). */
  async update(id: string, change: (s: SsfStream) => SsfStream): Promise<SsfStream> {
    for (let i = 0; i < 10; i++) {
      const v = await this.redis.hget(this.keys.ssfStreams, id);
      if (!v) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
      const next = { ...change(JSON.parse(v) as SsfStream), updated_at: Date.now() };
      const ok = await this.redis.eval(CAS, 1, this.keys.ssfStreams, id, v, JSON.stringify(next));
      if (ok === 1) return next;
    }
    throw new RiskstreamError('COMMIT_CONFLICT', `stream ${id} is being changed concurrently`);
  }

  async delete(id: string): Promise<void> {
    const n = await this.redis.hdel(this.keys.ssfStreams, id);
    if (!n) throw new RiskstreamError('NOT_FOUND', `no stream ${id}`);
    await this.redis.del(this.heldKey(id));
  }

  /** Key of the list of SETs held while the stream is paused. */
  heldKey(id: string): string {
    return `${this.keys.prefix}:ssf:held:${id}`;
  }
}
