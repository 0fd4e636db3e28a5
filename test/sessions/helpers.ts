import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeEach } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { AuditLog } from '../../src/audit/audit-log.js';
import { TokenSet } from '../../src/api/auth.js';
import type { ApiContext } from '../../src/api/context.js';
import { buildServer } from '../../src/api/server.js';
import { sessionRoutes } from '../../src/api/routes/sessions.js';
import type { Config } from '../../src/config/load.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { Keys } from '../../src/keys.js';
import type { SessionRevocation } from '../../src/sessions/revoke.js';
import { createSessionService, type SessionService } from '../../src/sessions/service.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN = 'admin-token-0123456789abcdef';
export const INGEST = 'ingest-token-0123456789abcdef';

/** A fresh connection and a random key prefix for one test file. */
export function testRedis(): { redis: Redis; prefix: string; keys: Keys; cleanup(): Promise<void> } {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const prefix = `rstest-sess-${randomBytes(6).toString('hex')}`;
  return { redis, prefix, keys: new Keys(prefix), cleanup: () => cleanupPrefix(redis, prefix) };
}

/** A test file's Redis, emptied before each test (then `reset`) and closed after the file. */
export function cleanRedisEach(t: ReturnType<typeof testRedis>, reset?: () => void): void {
  afterAll(async () => {
    await t.cleanup();
    await t.redis.quit();
  });
  beforeEach(async () => {
    await t.cleanup();
    reset?.();
  });
}

/** Deletes every key of a prefix (SCAN + DEL, incl. the hash-tagged BullMQ keys and the audit log's write-once markers). */
export async function cleanupPrefix(redis: Redis, prefix: string): Promise<void> {
  for (const match of [`${prefix}*`, ...new Keys(prefix).ownedPatterns.slice(1)]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (found.length) await redis.del(...found);
    } while (cursor !== '0');
  }
}

/** Every value under a prefix as text (strings, hashes, zsets, streams): for "never stored" checks. */
export async function dumpPrefix(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      const type = await redis.type(k);
      out.push(k);
      if (type === 'string') out.push((await redis.get(k)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(k)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(k, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  return out.join('\n');
}

/** A compact JWS-looking token (unsigned: only its shape matters here). */
export function fakeJwt(claims: Record<string, unknown> = { sub: 'alice', n: randomBytes(4).toString('hex') }): string {
  const b = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b(claims)}.${randomBytes(32).toString('base64url')}`;
}

/** A successful login carrying a session, with overrides. */
export function login(over: Partial<CanonicalEvent> & { sessionId?: string; expiresAt?: number } = {}): CanonicalEvent {
  const { sessionId, expiresAt, ...rest } = over;
  const time = rest.time ?? Date.now();
  return {
    type: 'login',
    id: `evt-${randomBytes(4).toString('hex')}`,
    user: 'alice@example.com',
    outcome: 'success',
    ip: '81.2.69.142',
    geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London' },
    session: {
      id: sessionId ?? `s-${randomBytes(4).toString('hex')}`,
      expires_at: expiresAt ?? time + 3_600_000,
      idp: 'okta',
      claims: { email: 'alice@example.com', groups: ['eng'] },
    },
    device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } },
    network: { asn: 2856, colo: 'LHR', via: 'warp' },
    ...rest,
    time,
  };
}

/** Wraps events as stream entries. */
export function batchOf(events: CanonicalEvent[]): StreamEvent[] {
  return events.map((event, i) => ({ ref: { stream: 'riskstream:login', id: `${1000 + i}-0` }, event, deliveries: 1 }));
}

/** Default `sessions` settings, with overrides. */
export function settings(over: Partial<Config['raw']['sessions']> = {}): Config['raw']['sessions'] {
  return { ...riskstreamSchema.parse({}).sessions, ...over };
}

/** The admin API over a session service, with a recording sink. */
export async function buildApi(
  t: { redis: Redis; keys: Keys; prefix: string },
  now?: () => number,
): Promise<{
  app: FastifyInstance;
  service: SessionService;
  store: SessionStore;
  audit: AuditLog;
  revoked: SessionRevocation[];
}> {
  const raw = riskstreamSchema.parse({ redis: { prefix: t.prefix } });
  const audit = new AuditLog(t.redis, `${t.prefix}:audit`);
  const store = new SessionStore(t.redis, t.keys, { maxPerUser: raw.sessions.max_per_user, ...(now ? { now } : {}) });
  const revoked: SessionRevocation[] = [];
  const service = createSessionService({ store, audit, onRevoked: (r) => void revoked.push(r) });
  const config = { raw, prefix: t.prefix } as unknown as Config;
  const ctx: ApiContext = {
    config: () => config,
    logger: pino({ level: 'silent' }),
    tokens: new TokenSet([ADMIN], [INGEST]),
  };
  const app = await buildServer(ctx, [sessionRoutes({ sessions: service })]);
  return { app, service, store, audit, revoked };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
