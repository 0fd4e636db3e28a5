/**
 * RiskStore + Scorer + ExpirySweeper on a real Redis (random prefix, purged after): optimistic
 * commits, skipping entries already applied, trimming applied markers, racing sweepers.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { schemaFor, type BehaviorConfig, type BehaviorKind } from '../../src/config/behaviors-schema.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { Keys } from '../../src/keys.js';
import { Scorer } from '../../src/risk/scorer.js';
import { emptyState } from '../../src/risk/state.js';
import { appliedMember, RiskStore } from '../../src/risk/store.js';
import { ExpirySweeper } from '../../src/risk/sweeper.js';
import type { StreamEvent } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 600_000 };
const ACTIVITY = 'rs:activity';

function behavior(id: string, raw: Record<string, unknown>): BehaviorConfig {
  const v = schemaFor(id, raw)!.parse(raw) as BehaviorConfig['params'] & Pick<BehaviorConfig, 'risk_level' | 'expires_after'> & { kind?: string };
  return { id, kind: (v.kind ?? id) as BehaviorKind, enabled: v.enabled, risk_level: v.risk_level, expires_after: v.expires_after, params: v };
}
const BEHAVIORS = [
  behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' }),
  behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '2h', min_severity: 'high' }),
];

const redis = redisClient();
let prefix: string;
let keys: Keys;
let user: string;
let n = 0;

beforeEach(async () => {
  if (prefix) await cleanup(redis, prefix);
  prefix = testPrefix('risk-store');
  keys = new Keys(prefix);
  user = `u-${++n}@example.com`;
});

afterAll(async () => {
  if (prefix) await cleanup(redis, prefix);
  redis.disconnect();
});

/** A DLP match as read from entry `id` (`<ms>-<seq>`) of the activity stream. */
function dlpEntry(id: string, opts: { deliveries?: number; eventId?: string; who?: string } = {}): StreamEvent {
  const time = Number(id.split('-')[0]);
  return {
    ref: { stream: ACTIVITY, id },
    deliveries: opts.deliveries ?? 1,
    event: { type: 'dlp', id: opts.eventId ?? `evt-${id}`, user: opts.who ?? user, time, profile: 'pii', severity: 'high', action: 'block', app: 'drive' },
  };
}

function scorer(store: RiskStore, now = NOW): Scorer {
  return new Scorer(store, { behaviors: () => BEHAVIORS, limits: () => LIMITS, now: () => now });
}

async function hits(u = user): Promise<number> {
  const s = await new RiskStore(redis, keys).get(u);
  return s?.state.behaviors.dlp_detection?.hits ?? 0;
}

describe('RiskStore.commit', () => {
  it('a commit on a stale rev is refused and writes nothing', async () => {
    const store = new RiskStore(redis, keys);
    const s = { ...emptyState(user), level: 'medium' as const, version: 1 };
    const change = {
      id: 'c-1',
      user,
      version: 1,
      previous: 'low' as const,
      current: 'medium' as const,
      behaviors: [],
      reason: 'r',
      initiatingEntity: 'system' as const,
      time: NOW,
    };
    expect(
      await store.commit([{ user, expectedRev: 0, state: s, hits: [], changes: [change], applied: [[1000, appliedMember(ACTIVITY, '1000-0')]], trimBelow: 0 }]),
    ).toEqual(new Set());
    const before = await redis.hgetall(keys.userState(user));
    expect(before.rev).toBe('1');
    const conflicts = await store.commit([
      {
        user,
        expectedRev: 0,
        state: { ...s, version: 9 },
        hits: [],
        changes: [{ ...change, version: 9 }],
        applied: [[2000, appliedMember(ACTIVITY, '2000-0')]],
        trimBelow: 0,
      },
    ]);
    expect(conflicts).toEqual(new Set([user]));
    expect(await redis.hgetall(keys.userState(user))).toEqual(before);
    expect(await redis.xlen(keys.userEvents(user))).toBe(1);
    expect(await redis.xlen(keys.userOutbox(user))).toBe(1);
    expect(await redis.zrange(keys.userApplied(user), 0, -1)).toEqual([appliedMember(ACTIVITY, '1000-0')]);
  });

  it('two scorers on one user (the second with a stale cached rev): the loser retries, nothing is lost', async () => {
    const a = new RiskStore(redis, keys, { lruSize: 100 });
    const b = new RiskStore(redis, keys, { lruSize: 100 });
    await scorer(b).score([dlpEntry(`${NOW - 5000}-0`)], 0); // b caches rev 1
    const ra = await scorer(a).score([dlpEntry(`${NOW - 4000}-0`)], 0); // rev 2 behind b's back
    expect(ra.conflicts).toBe(0);
    const rb = await scorer(b).score([dlpEntry(`${NOW - 3000}-0`)], 0);
    expect(rb.conflicts).toBe(1);
    expect(rb.applied).toBe(1);
    expect(await hits()).toBe(3);
    const st = await b.get(user);
    expect(st!.rev).toBe(3);
    expect(Object.values(st!.state.lastIds)).toEqual([`${NOW - 3000}-0`]);
    expect(await redis.zcard(keys.userApplied(user))).toBe(3);
  });

  it('many concurrent scorers on the same users: every event counted exactly once', async () => {
    const users = ['x@example.com', 'y@example.com', 'z@example.com'];
    const batches = Array.from({ length: 8 }, (_, k) =>
      users.flatMap((u, j) => [dlpEntry(`${NOW - 100_000 + k * 100 + j}-0`, { who: u }), dlpEntry(`${NOW - 100_000 + k * 100 + j}-1`, { who: u })]),
    );
    const reports = await Promise.all(batches.map((bt) => scorer(new RiskStore(redis, keys, { lruSize: 10 })).score(bt, 0)));
    expect(reports.reduce((s, r) => s + r.applied, 0)).toBe(48);
    expect(reports.reduce((s, r) => s + r.conflicts, 0)).toBeGreaterThan(0);
    for (const u of users) expect(await hits(u)).toBe(16);
  });
});

describe('Scorer: entries already applied are skipped', () => {
  it('a redelivered entry (deliveries 2) already applied is skipped; state, events and outbox untouched', async () => {
    const store = new RiskStore(redis, keys, { lruSize: 100 });
    const first = await scorer(store).score([dlpEntry(`${NOW - 1000}-0`)], 0);
    expect(first).toMatchObject({ applied: 1, skipped: 0 });
    expect(first.changes).toHaveLength(1);
    const before = await redis.hgetall(keys.userState(user));
    const events = await redis.xlen(keys.userEvents(user));
    const again = await scorer(new RiskStore(redis, keys), NOW + 5000).score([dlpEntry(`${NOW - 1000}-0`, { deliveries: 2 })], 0);
    expect(again).toMatchObject({ applied: 0, skipped: 1, hits: [], changes: [], outboxUsers: [] });
    expect(await redis.hgetall(keys.userState(user))).toEqual(before);
    expect(await redis.xlen(keys.userEvents(user))).toBe(events);
    // A redelivered entry never applied (the crash came before the commit) is applied.
    const late = await scorer(store).score([dlpEntry(`${NOW - 500}-0`, { deliveries: 2 })], 0);
    expect(late).toMatchObject({ applied: 1, skipped: 0 });
    expect(await hits()).toBe(2);
  });

  it('a batch mixing applied and new entries applies only the new ones', async () => {
    const store = new RiskStore(redis, keys);
    await scorer(store).score([dlpEntry(`${NOW - 3000}-0`), dlpEntry(`${NOW - 3000}-1`)], 0);
    const r = await scorer(store).score(
      [dlpEntry(`${NOW - 3000}-0`, { deliveries: 2 }), dlpEntry(`${NOW - 3000}-1`, { deliveries: 2 }), dlpEntry(`${NOW - 2000}-0`, { deliveries: 2 })],
      0,
    );
    expect(r).toMatchObject({ applied: 1, skipped: 2 });
    expect(await hits()).toBe(3);
  });

  it('an entry delivered again as new (group rewound: deliveries 1) is skipped too', async () => {
    const store = new RiskStore(redis, keys, { lruSize: 100 });
    await scorer(store).score([dlpEntry(`${NOW - 3000}-0`), dlpEntry(`${NOW - 2000}-0`)], 0);
    const r = await scorer(store).score([dlpEntry(`${NOW - 3000}-0`), dlpEntry(`${NOW - 2000}-0`), dlpEntry(`${NOW - 1000}-0`)], 0);
    expect(r).toMatchObject({ applied: 1, skipped: 2 });
    expect(await hits()).toBe(3);
  });

  it('an entry below the acked bound stored with the state is skipped even once its marker is trimmed', async () => {
    const store = new RiskStore(redis, keys);
    const old = `${NOW - 60_000}-0`;
    await scorer(store).score([dlpEntry(old)], 0, { [ACTIVITY]: NOW - 60_000 });
    // A later batch: everything below NOW - 10 s is acked → the old marker is trimmed, the bound kept.
    await scorer(store).score([dlpEntry(`${NOW - 5000}-0`)], NOW - 10_000, { [ACTIVITY]: NOW - 10_000 });
    expect(await redis.zrange(keys.userApplied(user), 0, -1)).toEqual([appliedMember(ACTIVITY, `${NOW - 5000}-0`)]);
    expect(JSON.parse((await redis.hget(keys.userState(user), 'acked'))!)).toEqual({ [ACTIVITY]: NOW - 10_000 });
    // Rewound: the old entry comes again as a first delivery.
    const r = await scorer(new RiskStore(redis, keys)).score([dlpEntry(old)], 0);
    expect(r).toMatchObject({ applied: 0, skipped: 1 });
    expect(await hits()).toBe(2);
    // The bound never goes down.
    await scorer(store).score([dlpEntry(`${NOW - 4000}-0`)], 0, { [ACTIVITY]: NOW - 50_000 });
    expect(JSON.parse((await redis.hget(keys.userState(user), 'acked'))!)).toEqual({ [ACTIVITY]: NOW - 10_000 });
  });

  it('an entry of another stream is not skipped by this stream’s bound', async () => {
    const store = new RiskStore(redis, keys);
    await scorer(store).score([dlpEntry(`${NOW - 5000}-0`)], 0, { [ACTIVITY]: NOW - 1000, 'rs:extra': 0 });
    const other: StreamEvent = { ...dlpEntry(`${NOW - 60_000}-0`), ref: { stream: 'rs:extra', id: `${NOW - 60_000}-0` } };
    expect(await scorer(store).score([other], 0)).toMatchObject({ applied: 1, skipped: 0 });
  });
});

describe('applied markers', () => {
  it('are trimmed below ackedBelow (and only there)', async () => {
    const store = new RiskStore(redis, keys);
    const ids = [0, 1, 2, 3, 4].map((k) => `${NOW - 50_000 + k * 10_000}-0`);
    await scorer(store).score(
      ids.slice(0, 4).map((id) => dlpEntry(id)),
      0,
    );
    expect(await redis.zcard(keys.userApplied(user))).toBe(4);
    // Entries below NOW - 25 s are acked: their markers go; the others (maybe not acked) stay.
    await scorer(store).score([dlpEntry(ids[4]!)], NOW - 25_000);
    expect(await redis.zrange(keys.userApplied(user), 0, -1, 'WITHSCORES')).toEqual(
      ids.slice(3).flatMap((id) => [appliedMember(ACTIVITY, id), id.split('-')[0]!]),
    );
    // The markers key expires on its own when the user goes quiet.
    expect(await redis.pttl(keys.userApplied(user))).toBeGreaterThan(6 * 24 * HOUR);
  });

  it('a marker just written is never trimmed by the same commit while its entry may be unacked', async () => {
    const store = new RiskStore(redis, keys);
    // ackedBelow comes from the pending list, which holds this very entry: it is never above it.
    const id = `${NOW - 1000}-0`;
    await scorer(store).score([dlpEntry(id)], NOW - 1000);
    expect(await redis.zrange(keys.userApplied(user), 0, -1)).toEqual([appliedMember(ACTIVITY, id)]);
  });
});

describe('ExpirySweeper', () => {
  it('two sweepers racing on the same due users: each expiry is committed once', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `sweep-${i}@example.com`);
    const store = new RiskStore(redis, keys);
    // An endpoint detection (HIGH, expires after 2 h) for each user.
    const batch: StreamEvent[] = users.map((u, i) => ({
      ref: { stream: ACTIVITY, id: `${NOW - 10_000 + i}-0` },
      deliveries: 1,
      event: { type: 'endpoint', id: `e-${i}`, user: u, time: NOW - 10_000, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' },
    }));
    await scorer(store).score(batch, 0);
    expect(await redis.zcard(keys.expiry)).toBe(20);
    const at = NOW + 2 * HOUR;
    const [a, b] = await Promise.all([
      new ExpirySweeper(redis, keys, new RiskStore(redis, keys)).sweep(at),
      new ExpirySweeper(redis, keys, new RiskStore(redis, keys)).sweep(at),
    ]);
    const changes = [...a.changes, ...b.changes];
    expect(changes).toHaveLength(20);
    expect(new Set(changes.map((c) => c.user)).size).toBe(20);
    for (const c of changes) expect(c).toMatchObject({ version: 2, previous: 'high', current: 'low' });
    for (const u of users) {
      const s = await store.get(u);
      expect(s!.state).toMatchObject({ level: 'low', version: 2, behaviors: {} });
      const kinds = (await redis.xrange(keys.userEvents(u), '-', '+')).map(([, f]) => f[f.indexOf('kind') + 1]);
      expect(kinds).toEqual(['hit', 'change', 'change']);
    }
    expect(await redis.zcard(keys.expiry)).toBe(0);
    // Sweeping again finds nothing.
    expect((await new ExpirySweeper(redis, keys, store).sweep(at + HOUR)).changes).toEqual([]);
  });

  it('a late detection is swept at its event time + expires_after: the expiry index, next_expiry and the sweeper agree', async () => {
    const store = new RiskStore(redis, keys);
    const happened = NOW - 90 * 60_000; // processed 90 min late; endpoint_detection expires after 2 h
    const until = happened + 2 * HOUR;
    await scorer(store).score(
      [
        {
          ref: { stream: ACTIVITY, id: `${NOW}-0` },
          deliveries: 1,
          event: { type: 'endpoint', id: 'late-1', user, time: happened, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' },
        },
      ],
      0,
    );
    expect(Number(await redis.zscore(keys.expiry, user))).toBe(until);
    expect((await store.get(user))!.state.behaviors.endpoint_detection!.expiresAt).toBe(until);
    const sweeper = new ExpirySweeper(redis, keys, new RiskStore(redis, keys));
    expect((await sweeper.sweep(until - 1)).changes).toEqual([]);
    const swept = await sweeper.sweep(until + 5_000);
    expect(swept.changes.map((c) => [c.previous, c.current, c.occurredAt, c.time])).toEqual([['high', 'low', until, until + 5_000]]);
  });
});
