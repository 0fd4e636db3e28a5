import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { listAllSessions, listUserSessions, type ListingContext } from '../../src/sessions/listing.js';
import { identityOf } from '../../src/sessions/store-reads.js';
import { SessionStore } from '../../src/sessions/store.js';
import { cleanRedisEach, login, settings, testRedis } from './helpers.js';

/**
 * The listings clean their indexes of sessions they found expired or gone, after reading them. A
 * commit that stores the same session id again in between (a new login reusing the id right at its
 * expiry) must keep its index members: the session stays listed. The commit is run at exactly that
 * point, deterministically, by a connection that runs it before the listing's clean-up is sent.
 */
const t = testRedis();
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let clock = T0;
const now = (): number => clock;
const ALICE = 'alice@example.com';
const store = new SessionStore(t.redis, t.keys, { now });

cleanRedisEach(t, () => (clock = T0));

function ident(over: Parameters<typeof login>[0] = {}): SessionIdentity {
  return buildIdentity(login({ time: T0, ...over }), settings())!;
}

/** Names of the commands queued on an ioredis pipeline. */
function queued(p: object): string[] {
  return ((p as { _queue?: Array<{ name: string }> })._queue ?? []).map((c) => c.name);
}

/**
 * The store's connection, running `between` once, right before the first write the listing sends
 * after its reads (a pipeline with a removal or a script, or a ZREM).
 */
function racing(between: () => Promise<unknown>): Redis {
  let ran = false;
  const once = async (): Promise<void> => {
    if (ran) return;
    ran = true;
    await between();
  };
  return new Proxy(t.redis, {
    get(target, prop, receiver) {
      if (prop === 'pipeline')
        return () => {
          const p = target.pipeline();
          const exec = p.exec.bind(p);
          p.exec = async () => {
            if (queued(p).some((n) => n === 'zrem' || n === 'evalsha' || n === 'eval')) await once();
            return exec();
          };
          return p;
        };
      if (prop === 'zrem')
        return async (...a: Parameters<Redis['zrem']>) => {
          await once();
          return target.zrem(...a);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function listing(redis: Redis): ListingContext {
  return {
    redis,
    keys: t.keys,
    now,
    live: (raw) => {
      const s = identityOf(raw);
      return s && s.expires_at > clock ? s : null;
    },
  };
}

describe('listing clean-up against a commit between its read and its write', () => {
  it('GET /v1/sessions: a session id expired at read time and logged in again before the prune is still listed', async () => {
    await store.put([ident({ sessionId: 's-1', expiresAt: T0 + 3_600_000 })]);
    clock = T0 + 3_600_000; // s-1 has just expired
    const again = ident({ sessionId: 's-1', time: clock, expiresAt: clock + 7_200_000 });
    const page = await listAllSessions(listing(racing(() => store.put([again]))));
    expect(page.sessions).toEqual([again]);
    expect((await store.listAll()).sessions).toEqual([again]);
  });

  it('GET /v1/sessions: a session whose identity was gone at read time and stored again before the clean-up is still listed', async () => {
    await store.put([ident({ sessionId: 's-2', expiresAt: T0 + 3_600_000 })]);
    await t.redis.del(t.keys.session(t.keys.partitionOf(ALICE), 's-2'));
    const again = ident({ sessionId: 's-2', time: T0 + 1000, expiresAt: T0 + 7_200_000 });
    await listAllSessions(listing(racing(() => store.put([again]))));
    expect((await store.listAll()).sessions).toEqual([again]);
  });

  it("a user's sessions: one gone at read time and stored again before the clean-up is still listed", async () => {
    await store.put([ident({ sessionId: 's-3', expiresAt: T0 + 3_600_000 })]);
    await t.redis.del(t.keys.session(t.keys.partitionOf(ALICE), 's-3'));
    const again = ident({ sessionId: 's-3', time: T0 + 1000, expiresAt: T0 + 7_200_000 });
    expect(await listUserSessions(listing(racing(() => store.put([again]))), ALICE)).toEqual([]);
    expect(await store.listUser(ALICE)).toEqual([again]);
  });

  it('without a commit between, the clean-up still removes what is expired or gone', async () => {
    await store.put([ident({ sessionId: 's-old', expiresAt: T0 + 1000 }), ident({ sessionId: 's-lost', expiresAt: T0 + 3_600_000 })]);
    await t.redis.del(t.keys.session(t.keys.partitionOf(ALICE), 's-lost'));
    clock = T0 + 2000;
    expect((await store.listAll()).sessions).toEqual([]);
    expect(await t.redis.zcard(t.keys.sessionsByLogin(t.keys.partitionOf(ALICE)))).toBe(0);
    expect(await t.redis.zcard(t.keys.sessionsByExpiry(t.keys.partitionOf(ALICE)))).toBe(0);
    expect(await store.listUser(ALICE)).toEqual([]);
    expect(await t.redis.zcard(t.keys.userSessions(ALICE))).toBe(0);
  });
});
