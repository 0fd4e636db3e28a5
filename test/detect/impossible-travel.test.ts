import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { impossibleTravel, travelLogins, type TravelWindow } from '../../src/detect/impossible-travel.js';
import { packLogin, unpackLogin } from '../../src/detect/travel.js';
import type { CanonicalEvent } from '../../src/types.js';
import { HOUR, LIMITS, MIN, T0, login, pairIds, run, type Run } from './fixtures.js';

const impossibleTravelParams = behaviorSchema('impossible_travel');

type ParamsIn = Partial<Parameters<typeof impossibleTravelParams.parse>[0] & object>;
const params = (p: ParamsIn = {}) => impossibleTravelParams.parse({ enabled: true, risk_level: 'high', ...p });

interface Case {
  name: string;
  logins: CanonicalEvent[];
  params?: ParamsIn;
  /** Flagged pairs, as indexes into `logins`. */
  pairs: Array<[number, number]>;
  check?: (r: Run<TravelWindow>, logins: CanonicalEvent[]) => void;
}

const L = (...args: Parameters<typeof login>) => login(...args);

const cases: Case[] = [
  {
    name: 'first login ever: remembered, never flagged',
    logins: [L('London', 0)],
    pairs: [],
    check: (r) => expect(r.window).toHaveLength(1),
  },
  { name: 'slow plausible trip (London → Paris in 4 h)', logins: [L('London', 0), L('Paris', 4 * HOUR)], pairs: [] },
  {
    name: 'fast implausible trip (London → Sydney in 2 h)',
    logins: [L('London', 0), L('Sydney', 2 * HOUR)],
    pairs: [[0, 1]],
    check: (r, ls) => {
      const h = r.hits[0]!;
      expect(h.summary).toMatch(/^London → Sydney: 17 0\d\d km in 2\.0 h = 8 5\d\d km\/h$/);
      expect(h.time).toBe(T0 + 2 * HOUR);
      expect(h.eventIds).toEqual([ls[1]!.id, ls[0]!.id]);
      expect(h.evidence).toMatchObject({
        from: { time: '2026-11-23T08:00:00.000Z', city: 'London', country: 'GB', ip: ls[0]!.ip, lat: 51.5074, lon: -0.1278 },
        to: { time: '2026-11-23T10:00:00.000Z', city: 'Sydney', country: 'AU' },
        hours: 2,
      });
      expect(h.evidence.distance_km).toBeGreaterThan(16_900);
      expect(h.evidence.distance_km).toBeLessThan(17_100);
      expect(Number.isInteger(h.evidence.speed_kmh)).toBe(true);
    },
  },
  {
    name: 'out-of-order pair: the later login arrives first',
    logins: [L('Sydney', 2 * HOUR), L('London', 0)],
    pairs: [[0, 1]],
    check: (r) => {
      expect(r.hits[0]!.evidence).toMatchObject({ from: { city: 'London' }, to: { city: 'Sydney' } });
      expect(r.hits[0]!.time).toBe(T0 + 2 * HOUR);
      expect(travelLogins(r.window).map((l) => l.city)).toEqual(['London', 'Sydney']);
    },
  },
  {
    name: 'same timestamp, far apart: flagged, speed null',
    logins: [L('London', 0), L('NewYork', 0)],
    pairs: [[0, 1]],
    check: (r) => {
      expect(r.hits[0]!.evidence.speed_kmh).toBeNull();
      expect(r.hits[0]!.evidence.hours).toBe(0);
      expect(r.hits[0]!.summary).toMatch(/at the same time$/);
    },
  },
  { name: 'antimeridian: Suva → Apia (1 150 km) in 2 h is plausible', logins: [L('Suva', 0), L('Apia', 2 * HOUR)], pairs: [] },
  {
    name: 'antimeridian: Suva → Apia in 30 min is measured across the date line',
    logins: [L('Suva', 0), L('Apia', 30 * MIN)],
    pairs: [[0, 1]],
    check: (r) => {
      expect(r.hits[0]!.evidence.distance_km).toBeGreaterThan(1_100);
      expect(r.hits[0]!.evidence.distance_km).toBeLessThan(1_200);
      expect(r.hits[0]!.summary).toMatch(/^Suva → Apia: 1 1\d\d km in 30 min = 2 3\d\d km\/h$/);
    },
  },
  { name: 'London → Berlin (930 km) in 45 min without accuracy radii', logins: [L('London', 0), L('Berlin', 45 * MIN)], pairs: [[0, 1]] },
  {
    name: 'accuracy radii (200 km each) make London → Berlin in 45 min plausible',
    logins: [L('London', 0, { acc: 200 }), L('Berlin', 45 * MIN, { acc: 200 })],
    pairs: [],
  },
  {
    name: 'accuracy radii ignored when use_accuracy_radius is false',
    logins: [L('London', 0, { acc: 200 }), L('Berlin', 45 * MIN, { acc: 200 })],
    params: { use_accuracy_radius: false },
    pairs: [[0, 1]],
  },
  {
    name: 'radii larger than the distance: effective distance 0, below min distance',
    logins: [L('London', 0, { acc: 1000 }), L('Paris', 1 * MIN, { acc: 1000 })],
    params: { min_distance_km: 0 },
    pairs: [],
  },
  {
    name: 'VPN egress (IPv4 CIDR) is neither flagged nor remembered',
    logins: [L('London', 0), L('Sydney', 1 * HOUR, { ip: '10.8.0.5' }), L('London', 2 * HOUR)],
    params: { allow_networks: ['10.0.0.0/8'] },
    pairs: [],
    check: (r) => expect(travelLogins(r.window).map((l) => l.city)).toEqual(['London', 'London']),
  },
  {
    name: 'VPN egress (IPv6 CIDR, and IPv4-mapped IPv6 in an IPv4 CIDR)',
    logins: [L('London', 0), L('Sydney', 1 * HOUR, { ip: '2001:db8::1' }), L('Tokyo', 1 * HOUR, { ip: '::ffff:10.1.2.3' })],
    params: { allow_networks: ['2001:db8::/32', '10.0.0.0/8'] },
    pairs: [],
  },
  {
    name: 'allowed ASN is neither flagged nor remembered',
    logins: [L('London', 0), L('Sydney', 1 * HOUR, { network: { asn: 13335 } })],
    params: { allow_asns: [13335] },
    pairs: [],
    check: (r) => expect(r.window).toHaveLength(1),
  },
  {
    name: 'invalid coordinates never flag, never crash, are not remembered',
    logins: [
      L('London', 0),
      L('Sydney', 1 * HOUR, { geo: { lat: 95, lon: 151 } }),
      L('Sydney', 1 * HOUR, { geo: { lat: -33, lon: 200 } }),
      L('Sydney', 1 * HOUR, { geo: { lat: Number.NaN, lon: 151 } }),
      L('Sydney', 1 * HOUR, { geo: { lat: '-33.8', lon: '151.2' } as never }),
      L('Sydney', 1 * HOUR, { geo: { lat: 0, lon: 0 } }),
      L('Sydney', 1 * HOUR, { geo: null as never }),
    ],
    pairs: [],
    check: (r) => expect(r.window).toHaveLength(1),
  },
  {
    name: 'missing geo: ignored',
    logins: [L('London', 0), { ...L('Sydney', 1 * HOUR), geo: undefined }],
    pairs: [],
  },
  {
    name: 'failed login is ignored (a threshold counts it instead)',
    logins: [L('London', 0), L('Sydney', 1 * HOUR, { outcome: 'failure' })],
    pairs: [],
    check: (r) => expect(r.window).toHaveLength(1),
  },
  {
    name: 'session refreshes and upper-case outcomes count as logins',
    logins: [L('London', 0, { type: 'session_refresh' }), L('Sydney', 1 * HOUR, { type: 'refresh', outcome: 'SUCCESS' })],
    pairs: [[0, 1]],
  },
  {
    name: 'other event types are ignored',
    logins: [L('London', 0), L('Sydney', 1 * HOUR, { type: 'access' })],
    pairs: [],
  },
  {
    name: 'same IP: judged by the events’ locations',
    logins: [L('London', 0, { ip: '81.2.69.142' }), L('Sydney', 1 * HOUR, { ip: '81.2.69.142' })],
    pairs: [[0, 1]],
  },
  {
    name: 'same IP with ignore_same_ip: never flags',
    logins: [L('London', 0, { ip: '81.2.69.142' }), L('Sydney', 1 * HOUR, { ip: '81.2.69.142' })],
    params: { ignore_same_ip: true },
    pairs: [],
  },
  {
    name: 'same IP spelled two ways (IPv6 case or zeros, IPv4-mapped) with ignore_same_ip: one address, never flags',
    logins: [
      L('London', 0, { ip: '2001:db8::9' }),
      L('Sydney', 1 * HOUR, { ip: '2001:DB8:0::9' }),
      L('London', 2 * HOUR, { ip: '198.51.100.9' }),
      L('Sydney', 3 * HOUR, { ip: '::ffff:198.51.100.9' }),
    ],
    params: { ignore_same_ip: true },
    pairs: [
      [0, 3],
      [1, 2],
    ],
  },
  {
    name: 'a pair is reported once: a third, plausible login reports nothing',
    logins: [L('London', 0), L('Sydney', 2 * HOUR), L('Paris', 40 * HOUR)],
    pairs: [[0, 1]],
    check: (r) => expect(r.perEvent.map((h) => h.length)).toEqual([0, 1, 0]),
  },
  {
    name: 'the same login replayed is ignored',
    logins: (() => {
      const a = L('London', 0);
      const b = L('Sydney', 2 * HOUR);
      return [a, b, b, a];
    })(),
    pairs: [[0, 1]],
    check: (r) => expect(r.window).toHaveLength(2),
  },
  {
    name: 'a late login is judged against both neighbours: a hit at its own time and one at the later neighbour’s, as in event-time order',
    logins: [L('London', 0), L('Sydney', 10 * HOUR), L('Singapore', 5 * HOUR)],
    pairs: [
      [0, 1],
      [0, 2],
      [1, 2],
    ],
    check: (r) => {
      expect(r.perEvent.map((h) => h.length)).toEqual([0, 1, 2]);
      const [own, later] = r.perEvent[2]!;
      // London → Singapore at Singapore's time; Singapore → Sydney at Sydney's (the behavior expires from there, as in order).
      expect(own!.time).toBe(T0 + 5 * HOUR);
      expect(own!.evidence.pairs).toHaveLength(1);
      expect(later!.time).toBe(T0 + 10 * HOUR);
      expect(later!.evidence.pairs).toHaveLength(1);
    },
  },
  {
    name: 'a slower speed limit flags London → Paris in 2 h',
    logins: [L('London', 0), L('Paris', 2 * HOUR)],
    params: { max_speed_kmh: 100, min_distance_km: 100 },
    pairs: [[0, 1]],
  },
];

describe('impossible_travel', () => {
  it.each(cases)('$name', (c) => {
    const r = run(impossibleTravel, params(c.params), c.logins);
    const expected = c.pairs.map(([a, b]) => [c.logins[a]!.id!, c.logins[b]!.id!].sort().join('|')).sort();
    expect(pairIds(r.hits)).toEqual(expected);
    c.check?.(r, c.logins);
  });

  it('keeps its window bounded by count and age', () => {
    const logins = Array.from({ length: 40 }, (_, i) => login(i % 2 ? 'London' : 'Paris', i * 12 * HOUR));
    const r = run(impossibleTravel, params(), logins);
    expect(r.window!.length).toBeLessThanOrEqual(LIMITS.maxLogins);
    // Older than the ~20 h horizon + lateness behind the newest login: useless, dropped.
    expect(travelLogins(r.window)[0]!.time).toBeGreaterThanOrEqual(T0 + 39 * 12 * HOUR - 21 * HOUR);
    const burst = Array.from({ length: 40 }, (_, i) => login('London', i * MIN));
    const b = run(impossibleTravel, params(), burst);
    expect(b.window).toHaveLength(LIMITS.maxLogins);
    expect(JSON.stringify(b.window).length).toBeLessThan(2_000);
  });

  // Logins stamped in the future (a skewed device, up to ingest.max_future ahead) hold at most half of
  // a full state.max_logins (bounded-keep.ts), so real logins are remembered: London then Sydney an
  // hour later is compared and flagged.
  it('logins stamped in the future never push real ones out of the window: a real impossible trip is still flagged', () => {
    const skewed = Array.from({ length: LIMITS.maxLogins }, (_, i) => login('London', 24 * HOUR + i * MIN));
    let w: TravelWindow | undefined;
    const hits = [];
    for (const [e, now] of [...skewed.map((e) => [e, T0] as const), [login('London', 0), T0] as const, [login('Sydney', HOUR), T0 + HOUR] as const]) {
      const r = impossibleTravel.detect(w, { event: e, eventId: e.id! }, params(), now, LIMITS);
      w = r.window;
      hits.push(...r.hits);
    }
    expect(hits.map((h) => h.time)).toEqual([T0 + HOUR]);
  });

  // An admin allow-lists a VPN egress (network or ASN) after a login from it was remembered (a reload
  // changes the parameters for later events): that login no longer pairs with the next one, nor stays.
  it('a login remembered before its network or ASN was allow-listed is forgotten, never paired', () => {
    const vpn = [login('Berlin', 0, { ip: '100.64.1.1' })];
    const asn = [login('Berlin', 0, { ip: '203.0.113.7', network: { asn: 9009 } })];
    for (const [first, allow] of [
      [vpn, { allow_networks: ['100.64.0.0/10'] }],
      [asn, { allow_asns: [9009] }],
    ] as const) {
      const before = run(impossibleTravel, params(), first);
      expect(before.window).toHaveLength(1);
      const home = login('Sydney', HOUR);
      const after = run(impossibleTravel, params(allow), [home], { window: before.window });
      expect(after.hits).toEqual([]);
      expect(travelLogins(after.window).map((l) => l.id)).toEqual([home.id]);
      // Not allow-listed, the same trip flags.
      expect(run(impossibleTravel, params(), [home], { window: before.window }).hits).toHaveLength(1);
    }
  });

  it('stores logins compactly and reads both stored forms back', () => {
    const r = run(impossibleTravel, params(), [login('London', 0)]);
    const [stored] = r.window!;
    expect(Array.isArray(stored)).toBe(true);
    const [rec] = travelLogins(r.window);
    expect(rec).toMatchObject({ city: 'London', time: T0 });
    expect(packLogin(rec!)).toEqual(stored);
    expect(unpackLogin(rec)).toEqual(rec); // a window written as objects still reads
    expect(unpackLogin([T0, 91, 0])).toBeUndefined();
    expect(unpackLogin([T0, 51.5, -0.12])).toEqual({ time: T0, lat: 51.5, lon: -0.12 });
    // A window in the older object form keeps its logins: London then Sydney 1 h later flags.
    const old = run(impossibleTravel, params(), [login('Sydney', HOUR)], { window: [rec] as unknown as TravelWindow });
    expect(old.hits).toHaveLength(1);
  });

  it('survives a corrupt stored window', () => {
    for (const window of ['junk', [{ foo: 1 }], [null], { a: 1 }] as unknown[]) {
      const r = run(impossibleTravel, params(), [login('London', 0), login('Sydney', HOUR)], { window: window as TravelWindow });
      expect(r.hits).toHaveLength(1);
    }
  });

  it('does not accept failed logins or non-logins', () => {
    const p = params();
    expect(impossibleTravel.accepts(login('London', 0, { outcome: 'failure' }), p)).toBe(false);
    expect(impossibleTravel.accepts(login('London', 0, { type: 'dlp' }), p)).toBe(false);
    expect(impossibleTravel.accepts(login('London', 0, { outcome: undefined }), p)).toBe(true);
  });
});
