/**
 * session_hijack's verdicts do not depend on batching or crashes (real Redis, a random prefix per
 * run): the same events in the same order, routed and applied in one step, one entry per event
 * (the router reading the store, or its own memory of logins routed, or nothing after a restart),
 * the owner holding the logins in memory, or restarted before every event, give the same hits.
 * Found by a determinism review: the stored identity and the router's batch disagreed on which
 * login is the baseline, a second login after the first's expiry replaced it only within one step,
 * a session expired on the wall clock lived only in memory, and the store path compared uses after
 * the session's expiry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import { attachedOf, encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import { SessionStore } from '../../src/sessions/store.js';
import { attachCapturedSessions, RecentLogins } from '../../src/sessions/captured.js';
import { Keys } from '../../src/keys.js';
import { keyId } from '../../src/partition.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { settings } from '../sessions/helpers.js';

const redis = redisClient();
const reader = redisClient();
/** The store's and detectors' clock. */
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
/** Event times of sessions alive on the store's clock (so that only event time decides). */
const T = NOW - 5 * MIN;
const USER = 'alice@example.com';
const LIFETIME = settings().default_lifetime;

afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

const login = (time: number, device: string, expires = time + 8 * 60 * MIN): CanonicalEvent => ({
  type: 'login',
  user: USER,
  time,
  outcome: 'success',
  session: { id: 's-1', expires_at: expires },
  device: { id: device },
});
const use = (time: number, device: string): CanonicalEvent => ({
  type: 'access',
  user: USER,
  time,
  outcome: 'allowed',
  app: 'drive',
  session: { id: 's-1' },
  device: { id: device },
});

const signOut = (time: number): CanonicalEvent => ({ type: 'logout', user: USER, time, outcome: 'success', session: { id: 's-1' } });

/** How the events are routed and applied. */
type Mode = 'one step' | 'store' | 'router memory' | 'owner memory' | 'crash';
const MODES: Mode[] = ['one step', 'store', 'router memory', 'owner memory', 'crash'];

function parts(store: SessionStore): OwnerParts {
  const build = identityBuilder(settings());
  return {
    context: () => ({
      behaviors: [behavior('session_hijack', { enabled: true, risk_level: 'high', expires_after: '24h', compare: ['device', 'asn', 'country'] })],
      limits: { maxLogins: 10, maxAge: 7 * 24 * 60 * MIN, allowedLateness: 24 * 60 * MIN },
      now: NOW,
    }),
    settings: () => ({ eventsMaxlen: 1000, now: NOW }),
    sessions: { build, prepare: (ids) => store.prepare(ids), after: async () => undefined, enabled: () => true, lifetime: () => LIFETIME },
    deadLetter: async () => {},
    relay: () => {},
    onCommitError: (err) => {
      throw err;
    },
    onFenced: () => {},
  };
}

/**
 * The session_hijack hits of `events` (in this stream order) under `mode`, as `event time: differing
 * values (login device)`, sorted.
 */
async function hits(events: readonly CanonicalEvent[], mode: Mode): Promise<string[]> {
  const prefix = testPrefix('hijack-det');
  const keys = new Keys(prefix, 2);
  const p = keys.partitionOf(USER);
  let epoch = 1;
  const lease = async () => {
    for (let q = 0; q < 2; q++) await redis.set(keys.engineLease(`p${q}`), `w#${epoch}`);
  };
  await lease();
  const store = new SessionStore(redis, keys, { now: () => NOW });
  const owner = (readCount = 100) => {
    const o = new PartitionOwner(redis, reader, keys, { lruSize: 100, readCount, commitInterval: 60_000, commitEntries: 1_000_000 }, parts(store));
    for (let q = 0; q < 2; q++) o.acquire(q, `w#${epoch}`);
    return o;
  };
  const drain = async (o: PartitionOwner) => {
    for (let i = 0; i < 50; i++) if ((await o.step(5)).read === 0 && i > 0) break;
    await o.settle();
  };
  const streamEvents = (evs: readonly CanonicalEvent[], at: number): StreamEvent[] =>
    evs.map((e, i) => ({ ref: { stream: 'in', id: `${at + i}-0` }, event: structuredClone(e), deliveries: 1 }));
  const write = async (batch: StreamEvent[]) => {
    const items: RoutedItem[] = batch.map((se) => {
      const ms = Number(se.ref.id.split('-')[0]);
      const x = attachedOf(se.event);
      return { k: [ms, 0], s: 'in', i: se.ref.id, e: se.event, ...(x ? { x } : {}) };
    });
    const last = items[items.length - 1]!.k;
    await redis.xadd(keys.partitionIn(p), keyId({ ms: last[0], seq: last[1] }), ROUTED_FIELD, encodeRouted(items));
  };
  try {
    const routerMemory = new RecentLogins();
    if (mode === 'one step') {
      const batch = streamEvents(events, 1000);
      await attachCapturedSessions(store, batch, routerMemory, LIFETIME);
      await write(batch);
      await drain(owner());
    } else if (mode === 'router memory' || mode === 'owner memory') {
      // Every event routed (the router remembering what it routed, or restarted each time) before the owner applies any.
      for (let i = 0; i < events.length; i++) {
        const batch = streamEvents([events[i]!], 1000 + 10 * i);
        await attachCapturedSessions(store, batch, mode === 'router memory' ? routerMemory : new RecentLogins(), LIFETIME);
        await write(batch);
      }
      await drain(owner(1));
    } else {
      // One event at a time, each committed before the next is routed by a restarted router; 'crash':
      // the owner restarted too (a new lease epoch: nothing in memory).
      let o = owner();
      for (let i = 0; i < events.length; i++) {
        const batch = streamEvents([events[i]!], 1000 + 10 * i);
        await attachCapturedSessions(store, batch, new RecentLogins(), LIFETIME);
        await write(batch);
        if (mode === 'crash' && i > 0) {
          epoch++;
          await lease();
          o = owner();
        }
        await drain(o);
      }
    }
    return (await redis.xrange(keys.userEvents(USER), '-', '+'))
      .map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as { behavior?: string; time?: number; summary?: string })
      .filter((d) => d.behavior === 'session_hijack')
      .map((d) => `${(Number(d.time) - NOW) / MIN}: ${d.summary}`)
      .sort();
  } finally {
    await cleanup(redis, prefix);
  }
}

/** The hits in every mode, keyed by mode. */
async function allModes(events: readonly CanonicalEvent[]): Promise<Record<Mode, string[]>> {
  const out = {} as Record<Mode, string[]>;
  for (const m of MODES) out[m] = await hits(events, m);
  return out;
}
const same = (expected: string[]): Record<Mode, string[]> => Object.fromEntries(MODES.map((m) => [m, expected])) as Record<Mode, string[]>;

describe('session_hijack gives the same verdicts however the events are batched or the worker restarts', () => {
  it('a login earlier in event time arriving after the session’s first: the first applied stays the baseline (finding 1)', async () => {
    const events = [login(T + 20 * MIN, 'd-b'), login(T, 'd-a'), use(T + 30 * MIN, 'd-a')];
    expect(await allModes(events)).toEqual(same(['25: session s-1 used from device d-a (login: device d-b)']));
  });

  it('a second login after the first’s expiry starts the session again: its uses are compared with it (finding 2)', async () => {
    const events = [login(T, 'd-a', T + 10 * MIN), login(T + 20 * MIN, 'd-b', T + 60 * MIN), use(T + 30 * MIN, 'd-b'), use(T + 31 * MIN, 'd-c')];
    expect(await allModes(events)).toEqual(same(['26: session s-1 used from device d-c (login: device d-b)']));
  });

  it('a session expired on the wall clock when committed (a backfill) is still the baseline of its uses (finding 3)', async () => {
    const B = NOW - 3 * 24 * 60 * MIN;
    const events = [login(B, 'd-a', B + 60 * MIN), use(B + 10 * MIN, 'd-b')];
    expect(await allModes(events)).toEqual(same([`${(B + 10 * MIN - NOW) / MIN}: session s-1 used from device d-b (login: device d-a)`]));
  });

  it('a use after its session’s expiry is not compared, whether its login is stored or not (finding 3)', async () => {
    const events = [login(T, 'd-a', T + 10 * MIN), use(T + 20 * MIN, 'd-b'), use(T + 5 * MIN, 'd-c')];
    expect(await allModes(events)).toEqual(same(['0: session s-1 used from device d-c (login: device d-a)']));
  });

  it('a use arriving before its login is not compared when it lies after the session’s expiry (finding 4)', async () => {
    const events = [use(T + 20 * MIN, 'd-b'), use(T + 5 * MIN, 'd-c'), login(T, 'd-a', T + 10 * MIN)];
    expect(await allModes(events)).toEqual(same(['0: session s-1 used from device d-c (login: device d-a)']));
  });

  it('a refresh arriving before its login, which ended before the refresh, is not compared with it: the refresh started the session again, as in event-time order (found by a black-box review)', async () => {
    const refresh: CanonicalEvent = { ...login(T + 20 * MIN, 'd-b', T + 60 * MIN), type: 'session_refresh' };
    const events = [refresh, login(T, 'd-a', T + 10 * MIN), use(T + 30 * MIN, 'd-c')];
    expect(await allModes(events)).toEqual(same(['25: session s-1 used from device d-c (login: device d-b)']));
    // In event-time order, the same.
    expect(await allModes([events[1]!, events[0]!, events[2]!])).toEqual(same(['25: session s-1 used from device d-c (login: device d-b)']));
  });

  it('a sign-out ends the window: later uses are not compared, earlier ones arriving after it are, and a refresh before it arriving late does not reopen it', async () => {
    const refresh: CanonicalEvent = { ...login(T + 8 * MIN, 'd-a', T + 60 * MIN), type: 'session_refresh' };
    const events = [
      login(T, 'd-a'),
      use(T + 5 * MIN, 'd-b'),
      signOut(T + 10 * MIN),
      use(T + 15 * MIN, 'd-c'),
      use(T + 7 * MIN, 'd-c'),
      refresh,
      use(T + 20 * MIN, 'd-e'),
    ];
    expect(await allModes(events)).toEqual(
      same(['0: session s-1 used from device d-b (login: device d-a)', '2: session s-1 used from device d-c (login: device d-a)']),
    );
  });

  it('a login after a sign-out starts the session again: its uses are compared with it', async () => {
    const events = [login(T, 'd-a'), signOut(T + 10 * MIN), login(T + 20 * MIN, 'd-b'), use(T + 30 * MIN, 'd-c'), signOut(T + 5 * MIN)];
    expect(await allModes(events)).toEqual(same(['25: session s-1 used from device d-c (login: device d-b)']));
  });

  it('a login arriving after its sign-out (earlier in event time) is ended by it: the uses waiting for it are compared only within', async () => {
    const events = [
      signOut(T + 10 * MIN),
      use(T + 5 * MIN, 'd-b'),
      use(T + 15 * MIN, 'd-c'),
      login(T, 'd-a'),
      use(T + 7 * MIN, 'd-c'),
      use(T + 12 * MIN, 'd-e'),
    ];
    expect(await allModes(events)).toEqual(
      same(['0: session s-1 used from device d-b (login: device d-a)', '2: session s-1 used from device d-c (login: device d-a)']),
    );
  });
});
