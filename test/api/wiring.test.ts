/**
 * Typed wiring: routes get their services as arguments, so a server holds exactly the routes it
 * was given (no 503 "service not running" at run time), and the console's users table reads
 * user state through the risk store.
 */
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { TokenSet } from '../../src/api/auth.js';
import { riskRoutes } from '../../src/api/routes/risk.js';
import { consoleUsersRoutes } from '../../src/api/routes/console-users.js';
import { deliveriesRoutes } from '../../src/api/routes/deliveries.js';
import type { UsersTable as UsersTableView, DeliveriesView } from '../../src/api/views/console.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { RiskService } from '../../src/risk/service.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { levelScore, RiskStore } from '../../src/risk/store.js';
import { UsersTable } from '../../src/risk/users-table.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const ADMIN = 'wiring-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN}` };

describe('typed wiring', () => {
  const prefix = testPrefix('wiring');
  const keys = new Keys(prefix);
  let redis: Redis;
  let app: FastifyInstance;

  /** Stores a state blob in the user's partition hash (as the owner's commit does) and indexes it. */
  const put = async (user: string, data: Buffer, score: number): Promise<void> => {
    await redis.hset(keys.userState(user), user, data);
    await redis.zadd(keys.usersByLevel(keys.partitionOf(user)), score, user);
  };

  beforeAll(async () => {
    redis = redisClient();
    const raw = riskstreamSchema.parse({ redis: { prefix } });
    const config = { raw, prefix } as unknown as Config;
    const audit = new AuditLog(redis, `${prefix}:audit`);
    const store = new RiskStore(redis, keys);
    const risk = new RiskService(redis, keys, store);
    app = await buildServer({ config: () => config, tokens: new TokenSet([ADMIN], []), logger: pino({ level: 'silent' }) }, [
      riskRoutes({ risk }),
      consoleUsersRoutes({ users: new UsersTable(redis, keys, store) }),
      deliveriesRoutes({ audit }),
    ]);

    const high: UserState = { ...emptyState('high@example.com'), level: 'high', version: 1, changedAt: Date.parse('2026-11-30T10:00:00Z') };
    await put(high.user, encodeState(high), levelScore(high));
    // Indexed as high, but its stored state cannot be read: skipped, never a 500.
    await put('broken@example.com', Buffer.from([0xc1, 0x7b, 0x6e]), levelScore({ ...high, changedAt: high.changedAt - 1 }));
    await audit.write({
      action: 'set.delivered',
      actor: 'system',
      target: high.user,
      details: { receiver: 'rx-a', user: high.user, event: 'risk-level-change', version: 1, jti: 'j-1', attempts: 1, status: 202 },
    });
    await audit.write({ action: 'set.retry', actor: 'system', target: 'other@example.com', details: { receiver: 'rx-a', user: 'other@example.com' } });
  });

  afterAll(async () => {
    await app?.close();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('route modules take their services as typed arguments: a missing or misspelled one does not compile', () => {
    expectTypeOf(riskRoutes).parameter(0).toEqualTypeOf<{ risk: RiskService }>();
    expectTypeOf(consoleUsersRoutes).parameter(0).toEqualTypeOf<{ users: UsersTable }>();
    const neverCalled = (risk: RiskService): unknown => [
      // @ts-expect-error a misspelled service is a compile error
      riskRoutes({ rsk: risk }),
      // @ts-expect-error so is a missing one
      riskRoutes({}),
    ];
    expect(typeof neverCalled).toBe('function');
  });

  it('a server has exactly the routes it was given: no session routes → 404 not_found, not 503', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/sessions', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found' });
    const risk = await app.inject({ method: 'GET', url: '/v1/users/nobody%40example.com/risk', headers: auth });
    expect(risk.statusCode).toBe(404);
    expect(risk.json()).toMatchObject({ error: 'not_found' });
  });

  it('the users table reads state through the risk store: unreadable states are skipped, counts come from the index', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/console/users', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json() as UsersTableView;
    expect(body.users.map((u) => u.user)).toEqual(['high@example.com']);
    expect(body.users[0]).toMatchObject({ level: 'high', version: 1, changed_at: '2026-11-30T10:00:00.000Z', behaviors: [] });
    expect(body.counts).toEqual({ low: 0, medium: 0, high: 2, total: 2 });
    expect(body.scanned).toBe(2);
    expect(body.next_cursor).toBeNull();
    const bad = await app.inject({ method: 'GET', url: '/v1/console/users?level=extreme', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'bad_request' });
  });

  it("a user's deliveries come from the audit log's set.* entries for that user", async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/users/HIGH%40example.com/deliveries', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json() as DeliveriesView;
    expect(body.user).toBe('high@example.com');
    expect(body.deliveries).toHaveLength(1);
    expect(body.deliveries[0]).toMatchObject({
      action: 'set.delivered',
      receiver: 'rx-a',
      event: 'risk-level-change',
      version: 1,
      jti: 'j-1',
      attempts: 1,
      outcome: 'delivered',
      status: 202,
    });
    expect(body).toMatchObject({ scanned: 2, complete: true });
    const bad = await app.inject({ method: 'GET', url: '/v1/users/high%40example.com/deliveries?since=yesterday', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'bad_request' });
  });
});
