/**
 * The offline reset and the session store's direct put, while a slot of the partition's keys is
 * being migrated (deterministic, as test/cluster/commit-migrating.test.ts): their commit script is
 * refused whole (TRYAGAIN, nothing written), and they answer the SLOT_MIGRATING code the engine's
 * commit uses (src/redis/slot-moving.ts), not Redis's raw refusal; the admin API answers a reset
 * refused so with 503 `slot_migrating` (not 500 `internal`). Once the slot is stable the same
 * call goes through. Runs on the shared cluster in a slot of a partition (`{p<n>}` of 1024) that
 * holds no key before it starts (searched from another partition than commit-migrating's), given
 * back STABLE in `finally`.
 */
import type { Cluster } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSet } from '../../src/api/auth.js';
import { buildServer } from '../../src/api/server.js';
import { riskRoutes } from '../../src/api/routes/risk.js';
import type { Config } from '../../src/config/load.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { resetUser } from '../../src/engine/offline-reset.js';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { RiskService } from '../../src/risk/service.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { emptyState } from '../../src/risk/state.js';
import { RiskStore } from '../../src/risk/store.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { cleanPrefix, clusterClient, requireCluster } from '../helpers/cluster.js';
import { beginMove, freePartition, undoMove } from '../helpers/cluster-reshard.js';
import { testPrefix } from '../helpers/redis.js';
import { login, settings } from '../sessions/helpers.js';

const up = await requireCluster('cluster/slot-migrating-errors');
const PARTITIONS = 1024;
const ADMIN = 'slot-migrating-admin-token-0123456789';
const prefix = testPrefix('slot-migrating-errors');
const keys = new Keys(prefix, PARTITIONS);
const SETTINGS = { eventsMaxlen: 100 }; // no input to wait for, no worker asked: the reset is committed here

describe.skipIf(!up)('a reset or a session put while its slot migrates', () => {
  let cluster: Cluster;
  let free: { p: number; user: string; slot: number };
  /** Users of the free partition (their keys in its slot), one per test. */
  let users: string[];
  beforeAll(async () => {
    // Few redirections: the refusal comes back at once rather than after ioredis's retries.
    cluster = clusterClient({ maxRedirections: 2, retryDelayOnTryAgain: 10 });
    defineScripts(cluster);
    free = await freePartition(PARTITIONS, PARTITIONS - 200);
    users = [];
    for (let i = 0; users.length < 3; i++) if (keys.partitionOf(`m${i}@example.com`) === free.p) users.push(`m${i}@example.com`);
  });
  afterAll(async () => {
    if (!cluster) return;
    await cleanPrefix(cluster, prefix);
    cluster.disconnect();
  });

  /** The user at high v1 with one risk event: a reset takes them to low v2 (its change XADDed to the events stream). */
  async function highUser(user: string): Promise<void> {
    const now = Date.now();
    await cluster.hset(keys.partitionState(free.p), user, encodeState({ ...emptyState(user), level: 'high', version: 1, changedAt: now, updatedAt: now }));
    await cluster.xadd(keys.userEvents(user), '*', 'kind', 'hit', 'data', '{}');
  }

  const written = async (user: string): Promise<unknown> => ({
    state: await cluster.hgetBuffer(keys.partitionState(free.p), user),
    events: await cluster.xlen(keys.userEvents(user)),
    outbox: await cluster.xlen(keys.userOutbox(user)),
    lease: await cluster.exists(keys.engineLease(`p${free.p}`)),
  });

  it('the offline reset answers SLOT_MIGRATING and writes nothing; once the slot is stable it resets', async () => {
    const user = users[0]!;
    await highUser(user);
    const before = await written(user);
    const reset = (): Promise<unknown> => resetUser(cluster, keys, { user, actor: 'cli:ops', reason: 'vouched' }, SETTINGS, async () => undefined);
    const move = await beginMove(free.slot, [keys.userEvents(user)]); // the events stream away, the state hash here
    try {
      const err = await reset().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'SLOT_MIGRATING', statusCode: 503 });
      expect(await written(user)).toEqual(before); // lease given back too
    } finally {
      await undoMove(move);
    }
    expect(await reset()).toMatchObject({ found: true, previous: 'high', level: 'low', version: 2 });
  });

  it('the admin API answers a reset refused so with 503 slot_migrating (not 500 internal)', async () => {
    const user = users[1]!;
    await highUser(user);
    const raw = riskstreamSchema.parse({ redis: { prefix } });
    const config = { raw, prefix } as unknown as Config;
    const risk = new RiskService(cluster, keys, new RiskStore(cluster, keys), (req) => resetUser(cluster, keys, req, SETTINGS, async () => undefined));
    const app = await buildServer({ config: () => config, tokens: new TokenSet([ADMIN], []), logger: pino({ level: 'silent' }) }, [riskRoutes({ risk })]);
    const post = () =>
      app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(user)}/risk/reset`, headers: { authorization: `Bearer ${ADMIN}` }, payload: {} });
    try {
      const move = await beginMove(free.slot, [keys.userEvents(user)]);
      try {
        const r = await post();
        expect({ status: r.statusCode, error: r.json().error }).toEqual({ status: 503, error: 'slot_migrating' });
      } finally {
        await undoMove(move);
      }
      const r = await post();
      expect({ status: r.statusCode, level: r.json().level, version: r.json().version }).toEqual({ status: 200, level: 'low', version: 2 });
    } finally {
      await app.close();
    }
  });

  it("the session store's put answers SLOT_MIGRATING and stores nothing; once the slot is stable it stores", async () => {
    const u = users[2]!;
    const store = new SessionStore(cluster, keys);
    const identity = buildIdentity(login({ user: u, sessionId: 'mig-1', time: Date.now() - 1000 }), settings())!;
    await cluster.zadd(keys.userSessions(u), Date.now() + 60_000, 'other'); // a key the put names, moved away
    const move = await beginMove(free.slot, [keys.userSessions(u)]);
    try {
      const err = await store.put([identity]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'SLOT_MIGRATING' });
      expect(await cluster.exists(keys.session(free.p, identity.session_id))).toBe(0);
    } finally {
      await undoMove(move);
    }
    expect(await store.put([identity])).toMatchObject({ stored: 1 });
    expect(await cluster.exists(keys.session(free.p, identity.session_id))).toBe(1);
  });
});
