/**
 * Behaviors expire without new events: the sweeper lowers the level and a SET with the lower
 * level reaches the receiver — once, even with two workers sweeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import type { UserState } from '../../src/risk/state.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type ReceivedSet, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { readState } from '../helpers/engine.js';

const prefix = testPrefix('e2e-expiry');
const keys = new Keys(prefix);
const redis = redisClient();
let receiver: TestReceiver;
let cfg: TestConfig;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  receiver = await startReceiver({ audience: 'https://rx.test', issuer: 'https://riskstream.test' });
  cfg = await writeTestConfig(
    prefix,
    {
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
      state: { sweep_interval: '100ms' },
    },
    {
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '2s', min_severity: 'high' },
      dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' },
    },
  );
  workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_CONSUMER: 'expiry-1' }));
  receiver.setJwks(`${workers[0]!.url}/.well-known/jwks.json`);
}, 30_000);

afterAll(async () => {
  for (const w of workers) await w.stop();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

async function detection(user: string): Promise<void> {
  await redis.xadd(
    `${prefix}:activity`,
    '*',
    'event',
    JSON.stringify({
      type: 'endpoint',
      id: `edr-${user}`,
      user,
      time: Date.now(),
      device: { id: 'd-1' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    }),
  );
}

const setsFor = (user: string): ReceivedSet[] => receiver.received.filter((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === user);
const levels = (sets: ReceivedSet[]): string[] => sets.map((s) => `${String(eventOf(s).body.previous_level)}→${String(eventOf(s).body.current_level)}`);

function state(user: string): Promise<UserState | null> {
  return readState(redis, keys, user);
}

async function changes(user: string): Promise<Array<{ version: number; current: string; reason: string }>> {
  return (await redis.xrange(keys.userEvents(user), '-', '+'))
    .filter(([, f]) => f[f.indexOf('kind') + 1] === 'change')
    .map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as { version: number; current: string; reason: string });
}

describe('expiry (real worker processes)', () => {
  it('a behavior with expires_after 2s lowers the level without new events: a SET HIGH → LOW reaches the receiver', async () => {
    const user = 'expiring@example.com';
    const t0 = Date.now();
    await detection(user);
    await waitFor(() => setsFor(user).length >= 1, { what: 'the HIGH SET' });
    expect(levels(setsFor(user))).toEqual(['LOW→HIGH']);
    const high = (await state(user))!;
    expect(high).toMatchObject({ level: 'high', version: 1 });
    const expiresAt = high.behaviors.endpoint_detection!.expiresAt!;
    expect(expiresAt - t0).toBeGreaterThanOrEqual(2000);
    expect(expiresAt - t0).toBeLessThan(5000);

    await waitFor(() => setsFor(user).length >= 2, { timeout: 10_000, what: 'the LOW SET' });
    const lowAt = Date.now();
    const sets = setsFor(user);
    expect(sets.every((s) => s.verified)).toBe(true);
    expect(levels(sets)).toEqual(['LOW→HIGH', 'HIGH→LOW']);
    expect(eventOf(sets[1]!).body).toMatchObject({ principal: 'USER', initiating_entity: 'system' });
    expect(lowAt).toBeGreaterThanOrEqual(expiresAt); // not before it was due …
    expect(lowAt - expiresAt).toBeLessThan(3000); // … and soon after (sweep every 100 ms)
    expect(await state(user)).toMatchObject({ level: 'low', version: 2, behaviors: {} });
    expect((await changes(user)).map((c) => [c.version, c.current])).toEqual([
      [1, 'high'],
      [2, 'low'],
    ]);
    expect(await redis.zscore(keys.partitionExpiry(keys.partitionOf(user)), user)).toBeNull();
  });

  it('only the expired behavior goes: HIGH (2 s) over MEDIUM (24 h) falls to MEDIUM', async () => {
    const user = 'two-behaviors@example.com';
    await redis.xadd(
      `${prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', id: `dlp-${user}`, user, time: Date.now(), profile: 'pii', severity: 'high', action: 'block' }),
    );
    await detection(user);
    await waitFor(async () => (await state(user))?.version === 2, { what: 'LOW → MEDIUM → HIGH' });
    // Version 1 (MEDIUM) may be superseded by version 2 before it is sent (both can be committed
    // together, and delivery coalesces): the HIGH → MEDIUM SET comes last either way.
    await waitFor(() => levels(setsFor(user)).at(-1) === 'HIGH→MEDIUM', {
      timeout: 10_000,
      what: `the MEDIUM SET (so far: ${levels(setsFor(user)).join(', ')})`,
    });
    await untilQuiet(redis, { prefix, users: [user] });
    const seen = levels(setsFor(user));
    expect([
      ['MEDIUM→HIGH', 'HIGH→MEDIUM'],
      ['LOW→MEDIUM', 'MEDIUM→HIGH', 'HIGH→MEDIUM'],
    ]).toContainEqual(seen);
    expect((await changes(user)).map((c) => [c.version, c.current])).toEqual([
      [1, 'medium'],
      [2, 'high'],
      [3, 'medium'],
    ]);
    expect(await state(user)).toMatchObject({ level: 'medium', version: 3 });
    expect(Object.keys((await state(user))!.behaviors)).toEqual(['dlp_detection']);
  });

  it('a backfilled detection sent twice (a shipper resending): one hit, expired on arrival; no level, no SET (found by a black-box review)', async () => {
    const user = 'backfill-resent@example.com';
    const old = criticalDetection(user, { id: 'edr-old', time: Date.now() - 60_000 });
    await redis.xadd(`${prefix}:activity`, '*', 'event', old);
    await untilQuiet(redis, { prefix, users: [user] });
    await redis.xadd(`${prefix}:activity`, '*', 'event', old);
    await untilQuiet(redis, { prefix, users: [user] });
    const res = await fetch(`${workers[0]!.url}/v1/users/${encodeURIComponent(user)}/events`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
    const { events } = (await res.json()) as { events: Array<{ kind: string; expired_on_arrival?: boolean }> };
    expect(events.map((e) => [e.kind, e.expired_on_arrival])).toEqual([['hit', true]]);
    expect(await state(user)).toMatchObject({ level: 'low', version: 0 });
    expect(setsFor(user)).toEqual([]);
  });

  it('two workers sweeping: exactly one LOW SET per user (one change, version 2)', async () => {
    workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_CONSUMER: 'expiry-2' }));
    const users = Array.from({ length: 30 }, (_, i) => `pair-${i}@example.com`);
    for (const u of users) await detection(u);
    await waitFor(() => users.every((u) => setsFor(u).length >= 1), { what: '30 HIGH SETs' });
    await waitFor(() => users.every((u) => setsFor(u).length >= 2), { timeout: 10_000, what: '30 LOW SETs' });
    await untilQuiet(redis, { prefix, users }); // a duplicate would be pending, unrelayed or queued
    for (const u of users) {
      expect(levels(setsFor(u)), u).toEqual(['LOW→HIGH', 'HIGH→LOW']);
      expect(new Set(setsFor(u).map((s) => s.claims.jti)).size).toBe(2);
      expect(
        (await changes(u)).map((c) => [c.version, c.current]),
        u,
      ).toEqual([
        [1, 'high'],
        [2, 'low'],
      ]);
      expect(await state(u)).toMatchObject({ level: 'low', version: 2 });
    }
    // Both workers were sweeping (each owns partitions, the 64 between them, and answers
    // readiness), yet every expiry was committed once: by its partition's owner.
    const owned: number[] = [];
    for (const w of workers) {
      expect((await fetch(`${w.url}/readyz`)).status).toBe(200);
      const text = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
      owned.push(Number(/^riskstream_engine_partitions_owned (\d+)$/m.exec(text)?.[1]));
    }
    expect(owned.every((n) => n > 0)).toBe(true);
    expect(owned.reduce((a, b) => a + b, 0)).toBe(64);
  });
});
