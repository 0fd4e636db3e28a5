/**
 * Idle users forgotten by a real worker (`state.idle_user_ttl`, docs/operations.md "Idle users are
 * forgotten"): a password spray's made-up usernames (one failed login each, input entries three
 * hours old) leave no state once a later entry moves the partition's input time past the TTL; the
 * admin API answers for them as for users never seen; one that comes back is a new user whose level
 * change is version 1 and reaches the receiver as a SET. A user stored before the idle index existed
 * (its state field only, as an upgraded deployment holds it) is listed by the worker's backfill
 * (its pass logged) and forgotten with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { emptyState } from '../../src/risk/state.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, spawnWorker, userRisk, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = testPrefix('e2e-idle-users');
const keys = new Keys(prefix, 1);
const redis = redisClient();
const K = 40;
const SPRAYED = Array.from({ length: K }, (_, i) => `nobody-${i}-${prefix}@example.com`);
const UPGRADED = `before-upgrade-${prefix}@example.com`;
let receiver: TestReceiver;
let cfg: TestConfig;
let worker: WorkerProcess;

beforeAll(async () => {
  receiver = await startReceiver({ audience: 'https://rx.test', issuer: 'https://riskstream.test' });
  cfg = await writeTestConfig(
    prefix,
    {
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
      state: { sweep_interval: '100ms', login_max_age: '1h', allowed_lateness: '10m', idle_user_ttl: '2h' },
      engine: { partitions: 1 },
      log_level: 'info', // the backfill's pass is logged at info
    },
    {
      brute_force: { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' },
      new_country: { enabled: true, risk_level: 'medium', expires_after: '24h' },
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
    },
  );
  // Stored before the idle index existed: a state seen three hours ago (a failed login), no idle member.
  const old = { ...emptyState(UPGRADED), updatedAt: Date.now() - 3 * 3_600_000 };
  await redis.hset(keys.partitionState(0), UPGRADED, encodeState(old));
  await redis.zadd(keys.usersByLevel(0), 0, UPGRADED);
  worker = await spawnWorker(cfg.dir);
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const admin = (path: string): Promise<Response> => fetch(`${worker.url}${path}`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });

describe('idle users (real worker)', () => {
  it('a spray is forgotten once later input passes the TTL; the API knows them no more; one coming back is version 1 and delivered', async () => {
    const t0 = Date.now() - 3 * 3_600_000;
    for (const [i, user] of SPRAYED.entries()) {
      const ev = { type: 'login', id: `spray-${i}`, user, time: t0 + i, outcome: 'failure', reason: 'unknown_user', ip: '203.0.113.7' };
      await redis.xadd(`${prefix}:login`, `${t0 + i}-0`, 'event', JSON.stringify(ev));
    }
    await waitFor(async () => (await redis.hlen(keys.partitionState(0))) === K + 1, { timeout: 30_000, what: 'the spray committed' });
    await waitFor(() => /idle index backfill: partition pass complete/.test(worker.output()), { timeout: 10_000, what: 'the backfill logged' });
    // Later input, now: the partition's input time passes the 2 h TTL.
    await redis.xadd(
      `${prefix}:login`,
      '*',
      'event',
      JSON.stringify({ type: 'login', user: 'later@example.com', time: Date.now(), outcome: 'failure', ip: '198.51.100.1' }),
    );
    await waitFor(async () => (await redis.hlen(keys.partitionState(0))) === 1, { timeout: 30_000, what: 'the spray forgotten' });
    expect(await redis.hkeys(keys.partitionState(0))).toEqual(['later@example.com']);
    expect(await redis.zrange(keys.usersByLevel(0), 0, -1)).toEqual(['later@example.com']);

    // As a user never seen: 404 NOT_FOUND, not listed.
    for (const user of [SPRAYED[0]!, `never-${prefix}@example.com`]) {
      const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: string }).error).toBe('not_found');
    }
    const listed = (await (await admin('/v1/users')).json()) as { users: Array<{ user: string }> };
    expect(listed.users.map((u) => u.user)).toEqual(['later@example.com']);
    // Counted when the worker sees its commit land: a moment after another client can see the deletion.
    const forgotten = async (): Promise<number> => Number(/^riskstream_users_forgotten_total (\d+)$/m.exec(await (await admin('/metrics')).text())?.[1] ?? 0);
    await waitFor(async () => (await forgotten()) >= K + 1, { timeout: 10_000, what: 'the forgotten users counted' });
    expect(await forgotten()).toBe(K + 1);

    // Back: a new user — its first level change is version 1, and reaches the receiver.
    const back = SPRAYED[0]!;
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(back));
    const set = await waitFor(() => receiver.received.find((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === back), {
      timeout: 30_000,
      what: 'the SET of the user back',
    });
    expect(eventOf(set).body).toMatchObject({ previous_level: 'LOW', current_level: 'HIGH' });
    expect(await userRisk(worker.url, cfg.adminToken, back)).toMatchObject({ level: 'high', version: 1 });
  });
});
