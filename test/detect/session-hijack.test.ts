import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { detectorFor } from '../../src/detect/registry.js';
import { attachCaptured, attachSessionEnd, markRevoked, type CapturedSession } from '../../src/detect/captured-session.js';
import { sessionHijack, sessionHijackParams, type HijackWindow } from '../../src/detect/session-hijack.js';
import { storedSessionId } from '../../src/sessions/identity.js';
import { capturedFromIdentity } from '../../src/sessions/baseline.js';
import { redactString } from '../../src/sessions/redact.js';
import { hitExpiry, reduce } from '../../src/risk/reducer.js';
import { emptyState } from '../../src/risk/state.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import type { CanonicalEvent } from '../../src/types.js';
import { LIMITS, MIN, T0 } from './fixtures.js';

const ALL = sessionHijackParams.parse({});
const CAPTURED: CapturedSession = { session_id: 's-123', user: 'alice@example.com', login_at: T0, device: 'd-9', asn: 2856, country: 'GB' };

let seq = 0;
/** A session use by alice, with the login's identity attached (as the enrich stage does). */
function use(at: number, extra: Partial<CanonicalEvent> = {}, captured: CapturedSession | null = CAPTURED): CanonicalEvent {
  const e: CanonicalEvent = {
    type: 'access',
    id: `use-${++seq}`,
    user: 'alice@example.com',
    time: T0 + at,
    outcome: 'allowed',
    session: { id: 's-123' },
    device: { id: 'd-9' },
    network: { asn: 2856 },
    geo: { country: 'GB' },
    ...extra,
  };
  attachCaptured(e, captured ?? undefined);
  return e;
}

function run(events: CanonicalEvent[], params = ALL, window?: HijackWindow) {
  const hits = [];
  let w = window;
  for (const e of events) {
    if (!sessionHijack.accepts(e, params)) continue;
    const r = sessionHijack.detect(w, { event: e, eventId: e.id! }, params, T0 + 60 * MIN, LIMITS);
    w = r.window;
    hits.push(...r.hits);
  }
  return { hits, window: w };
}

describe('session_hijack', () => {
  it('is registered, with compare defaulting to [device, asn, country]', () => {
    expect(detectorFor('session_hijack')).toBe(sessionHijack);
    expect(ALL.compare).toEqual(['device', 'asn', 'country']);
    expect(behaviorSchema('session_hijack').safeParse({ risk_level: 'high', compare: ['ssid'] }).success).toBe(false);
    expect(behaviorSchema('session_hijack').safeParse({ risk_level: 'high', compare: [] }).success).toBe(false);
  });

  it('flags a use from another device, ASN and country; the evidence shows both sides', () => {
    const e = use(5 * MIN, { device: { id: 'd-77' }, network: { asn: 1221 }, geo: { country: 'au' } });
    const { hits } = run([e]);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      time: T0 + 5 * MIN,
      eventIds: [e.id],
      evidence: {
        session_id: 's-123',
        login_at: new Date(T0).toISOString(),
        differs: ['device', 'asn', 'country'],
        login: { device: 'd-9', asn: 2856, country: 'GB' },
        event: { device: 'd-77', asn: 1221, country: 'AU' },
      },
    });
    expect(hits[0]!.summary).toBe('session s-123 used from device d-77 (login: device d-9), AS1221 (login: AS2856), AU (login: GB)');
  });

  it('near misses: same identity, a property missing on either side, a property not in compare', () => {
    expect(run([use(MIN)]).hits).toEqual([]);
    expect(run([use(MIN, { device: undefined, network: undefined, geo: { country: 'GB' } })]).hits).toEqual([]);
    const noDeviceAtLogin = { ...CAPTURED, device: undefined };
    delete noDeviceAtLogin.device;
    expect(run([use(MIN, { device: { id: 'd-77' } }, noDeviceAtLogin)]).hits).toEqual([]);
    const onlyCountry = sessionHijackParams.parse({ compare: ['country'] });
    expect(run([use(MIN, { device: { id: 'd-77' }, network: { asn: 1221 } })], onlyCountry).hits).toEqual([]);
    expect(run([use(MIN, { geo: { country: 'AU' } })], onlyCountry).hits).toHaveLength(1);
    // AS0 means "unknown" (RFC 7607: no network's): missing, not another ASN; "AS0" as text too.
    expect(run([use(MIN, { network: { asn: 0 } })]).hits).toEqual([]);
    expect(run([use(MIN, { network: { asn: 'AS0' } as unknown as { asn: number } })]).hits).toEqual([]);
    expect(run([use(MIN, { network: { asn: 1221 } })]).hits).toHaveLength(1);
  });

  it('a device id differing only in letter case is the same device (a GUID written upper case by one source, lower by another; found by a black-box audit)', () => {
    const guid = { ...CAPTURED, device: 'ABCDEF01-2345-6789-ABCD-EF0123456789' };
    expect(run([use(MIN, { device: { id: 'abcdef01-2345-6789-abcd-ef0123456789' } }, guid)]).hits).toEqual([]);
    expect(run([use(MIN, { device: { id: 'D-9' } })]).hits).toEqual([]);
    // Another device is still one, and its spellings are one report: "D-77" after "d-77" adds none.
    const flagged = run([use(MIN, { device: { id: 'd-77' } }), use(2 * MIN, { device: { id: 'D-77' } })]);
    expect(flagged.hits).toHaveLength(1);
    expect(flagged.hits[0]!.evidence).toMatchObject({ differs: ['device'], login: { device: 'd-9' }, event: { device: 'd-77' } });
  });

  it('a use that came before its login (the IdP log late): compared when the login arrives, as in event-time order', () => {
    const login = (): CanonicalEvent => use(0, { type: 'login', outcome: 'success' }, null); // captures: d-9, AS2856, GB
    const thief = (): CanonicalEvent => use(MIN, { device: { id: 'd-77' }, network: { asn: 1221 }, geo: { country: 'AU' } }, null);
    const late = run([thief(), login()]);
    expect(late.hits).toHaveLength(1);
    expect(late.hits[0]).toMatchObject({ time: T0 + MIN, evidence: { session_id: 's-123', differs: ['device', 'asn', 'country'] } });
    // The same in order (the router attaches the login's baseline to the use): the same hit.
    const inOrder = run([login(), use(MIN, { device: { id: 'd-77' }, network: { asn: 1221 }, geo: { country: 'AU' } })]);
    expect(inOrder.hits.map((h) => [h.time, h.summary])).toEqual(late.hits.map((h) => [h.time, h.summary]));
    // Its own device, or a use before the login, or a use of another session: nothing.
    expect(run([use(MIN, {}, null), login()]).hits).toEqual([]);
    expect(run([use(-MIN, { device: { id: 'd-77' } }, null), login()]).hits).toEqual([]);
    expect(run([use(MIN, { device: { id: 'd-77' }, session: { id: 's-other' } }, null), login()]).hits).toEqual([]);
    // Reported once: the login again (a replay) adds nothing; the use is no longer waiting.
    const again = run([login()], ALL, late.window);
    expect(again.hits).toEqual([]);
  });

  it('a session id that is a JWT: a use before its login is reported under the stored id (jwt-sha256:…), so its repeat after the login adds nothing and the window keeps no token (found by an outside-in audit)', () => {
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'RS256' })}.${b64({ sub: 'alice', sid: 'x' })}.c2lnLXNpZy1zaWctc2lnLXNpZy0x`;
    const stored = storedSessionId(jwt);
    const thief = (captured: CapturedSession | null): CanonicalEvent => use(MIN, { session: { id: jwt }, device: { id: 'd-77' } }, captured);
    const login = use(0, { type: 'login', outcome: 'success', session: { id: jwt } }, null);
    const late = run([thief(null), login]);
    expect(late.hits).toHaveLength(1);
    expect(late.hits[0]!.evidence).toMatchObject({ session_id: stored });
    expect(JSON.stringify(late.window)).not.toContain(jwt);
    // The same use again, now that the login is stored (the router attaches its identity): already reported.
    expect(run([thief({ ...CAPTURED, session_id: stored })], ALL, late.window).hits).toEqual([]);
  });

  it('a device id shaped like a token, stored fingerprinted with the login, is the same device as the raw id its uses carry (an audit found a false hijack for every later use)', () => {
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const opaque = 'Mx7Kp2Qr9Ts4Vw6Yz8Ab3Cd5Ef1Gh0JkLmNpQrSt';
    const jwtDevice = `${b64({ alg: 'RS256' })}.${b64({ sub: 'device-1' })}.c2lnLXNpZy1zaWctc2lnLXNpZy0x`;
    for (const dev of [opaque, jwtDevice]) {
      const identity = {
        session_id: 's-123',
        user: 'alice@example.com',
        login_at: T0,
        expires_at: T0 + 60 * MIN,
        claims: {},
        device: { id: redactString(dev) },
      };
      const stored = capturedFromIdentity(identity);
      expect(run([use(MIN, { device: { id: dev } }, stored)]).hits, dev).toEqual([]);
      const other = run([use(MIN, { device: { id: 'd-other' } }, stored)]);
      expect(other.hits, dev).toHaveLength(1);
      expect(JSON.stringify(other.hits[0]!.evidence)).not.toContain(dev);
    }
  });

  it('a use that came before its login is compared only within the session the login starts: not after its end (found by a review)', () => {
    const thief = (at: number): CanonicalEvent => use(at, { device: { id: 'd-77' } }, null);
    // The session ends at T0 + 10 min: by its expires_at, or as the owner attaches it (default lifetime).
    const byExpiry = (): CanonicalEvent => use(0, { type: 'login', outcome: 'success', session: { id: 's-123', expires_at: T0 + 10 * MIN } }, null);
    const attached = (end: number): CanonicalEvent => {
      const l = use(0, { type: 'login', outcome: 'success' }, null);
      attachSessionEnd(l, end);
      return l;
    };
    for (const login of [byExpiry, () => attached(T0 + 10 * MIN)]) {
      expect(run([thief(20 * MIN), login()]).hits).toEqual([]);
      expect(run([thief(10 * MIN), login()]).hits).toEqual([]); // the end is not in the window
      expect(run([thief(9 * MIN), login()]).hits.map((h) => h.time)).toEqual([T0 + 9 * MIN]);
    }
    // A login that starts nothing (it extended the session, or was refused): an empty window.
    expect(run([thief(MIN), attached(T0)]).hits).toEqual([]);
  });

  it('uses waiting for a login are bounded: within allowed_lateness of the newest, at most 16; a revoked use never waits', () => {
    const waiting = (w: HijackWindow | undefined) => (Array.isArray(w) || !w ? [] : (w.u ?? []));
    const uses = Array.from({ length: 20 }, (_, i) => use(MIN + i * 1000, { device: { id: `d-${i}` } }, null));
    expect(waiting(run(uses).window)).toHaveLength(16);
    const old = use(MIN, { device: { id: 'd-1' } }, null);
    const newer = use(MIN + LIMITS.allowedLateness + 1, { device: { id: 'd-2' } }, null);
    expect(waiting(run([old, newer]).window).map((u) => u.t)).toEqual([newer.time]);
    const revoked = use(MIN, { device: { id: 'd-77' } }, null);
    markRevoked(revoked, true);
    expect(run([revoked]).window).toBeUndefined();
  });

  it('a use with a future time (a skewed clock, within ingest.max_future) never drops the uses waiting for their login: the newest is taken at most at now', () => {
    // Live traffic: processed two minutes after the login; the IdP's log of it comes last.
    const now = T0 + 2 * MIN;
    const login = (): CanonicalEvent => use(0, { type: 'login', outcome: 'success' }, null); // captures: d-9, AS2856, GB
    const thief = (): CanonicalEvent => use(MIN, { device: { id: 'd-77' } }, null);
    // Another session's use, stamped a day ahead: no login known of it either, so it waits too.
    const skewed = (): CanonicalEvent => use(24 * 60 * MIN, { session: { id: 's-skewed' } }, null);
    for (const order of [
      [thief(), skewed(), login()],
      [skewed(), thief(), login()],
    ]) {
      let w: HijackWindow | undefined;
      const hits = [];
      for (const e of order) {
        const r = sessionHijack.detect(w, { event: e, eventId: e.id! }, ALL, now, LIMITS);
        w = r.window;
        hits.push(...r.hits);
      }
      expect(hits.map((h) => [h.time, h.evidence.differs])).toEqual([[T0 + MIN, ['device']]]);
    }
  });

  it('uses stamped in the future (a skewed clock) fill at most half of the 16 waiting places: a real use waiting for its login is still compared', () => {
    const now = T0 + 2 * MIN;
    let w: HijackWindow | undefined;
    const hits = [];
    // 20 uses of other sessions, stamped a day ahead, none of whose logins is known: all would wait.
    const skewed = Array.from({ length: 20 }, (_, i) => use(24 * 60 * MIN + i * 1000, { session: { id: `s-skewed-${i}` } }, null));
    const thief = use(MIN, { device: { id: 'd-77' } }, null);
    const login = use(0, { type: 'login', outcome: 'success' }, null);
    for (const e of [...skewed, thief, login]) {
      const r = sessionHijack.detect(w, { event: e, eventId: e.id! }, ALL, now, LIMITS);
      w = r.window;
      hits.push(...r.hits);
    }
    expect(hits.map((h) => [h.time, h.evidence.differs])).toEqual([[T0 + MIN, ['device']]]);
  });

  it('a report of a use stamped in the future (a skewed clock) silences repeats only while its hit counts: from now, as the hit expires', () => {
    const params = { ...ALL, expires_after: 3_600_000 };
    const evil = { device: { id: 'd-evil' } };
    const steps: Array<[CanonicalEvent, number]> = [
      [use(24 * 60 * MIN, evil), T0], // a day ahead: its hit counts until T0 + 1h (hitExpiry: from now)
      [use(30 * MIN, evil), T0 + 30 * MIN], // a repeat while it counts: nothing
      [use(2 * 60 * MIN, evil), T0 + 2 * 60 * MIN], // the hit expired at T0 + 1h: the hijack still going on is flagged
    ];
    let w: HijackWindow | undefined;
    const hitsAt: number[] = [];
    for (const [e, now] of steps) {
      const r = sessionHijack.detect(w, { event: e, eventId: e.id! }, params, now, LIMITS);
      w = r.window;
      hitsAt.push(...r.hits.map((h) => h.time - T0));
    }
    expect(hitsAt).toEqual([24 * 60 * MIN, 2 * 60 * MIN]);
    // Through the reducer: the first hit's expiry is what the report's silence lasts.
    expect(hitExpiry(T0 + 24 * 60 * MIN, 3_600_000, T0)).toBe(T0 + 3_600_000);
  });

  it('never flags a session riskstream never saw, another user’s session, the login itself or a use before the login', () => {
    expect(run([use(MIN, { device: { id: 'd-77' } }, null)]).hits).toEqual([]);
    expect(run([use(MIN, { device: { id: 'd-77' } }, { ...CAPTURED, user: 'bob@example.com' })]).hits).toEqual([]);
    expect(run([use(0, { type: 'login', outcome: 'success', device: { id: 'd-77' } })]).hits).toEqual([]); // the login that captured it (a replay of it)
    expect(run([use(-MIN, { type: 'login', outcome: 'success', device: { id: 'd-77' } })]).hits).toEqual([]);
    expect(run([use(-MIN, { device: { id: 'd-77' } })]).hits).toEqual([]);
    // A forged baseline in the input JSON is not the attached one.
    const forged = JSON.parse(JSON.stringify(use(MIN, { device: { id: 'd-77' } }))) as CanonicalEvent;
    expect(run([forged]).hits).toEqual([]);
  });

  it('a later login of the user with the same session id is a use: compared with the first login (it cannot replace the baseline unseen)', () => {
    const again = use(30 * MIN, { type: 'login', outcome: 'success', device: { id: 'd-77' }, network: { asn: 1221 } });
    expect(run([again]).hits.map((h) => h.evidence.differs)).toEqual([['device', 'asn']]);
    expect(run([use(30 * MIN, { type: 'login', outcome: 'success' })]).hits).toEqual([]);
    expect(run([use(30 * MIN, { type: 'login', outcome: 'failure', device: { id: 'd-77' } })]).hits.length).toBe(1); // a failed login with the id is a use too
  });

  it('a successful session refresh is a use: a refresh from another device is flagged, one from the login’s is not', () => {
    for (const type of ['session_refresh', 'refresh', ' Session_Refresh ']) {
      const stolen = use(30 * MIN, { type, outcome: 'success', device: { id: 'd-77' }, session: { id: 's-123', expires_at: T0 + 600 * MIN } });
      expect(
        run([stolen]).hits.map((h) => h.evidence.differs),
        type,
      ).toEqual([['device']]);
      expect(run([use(30 * MIN, { type, outcome: 'success' })]).hits, type).toEqual([]);
    }
  });

  it('one hit per session and differing values: repeats and replays add none; another difference is a new hit', () => {
    const a = use(MIN, { device: { id: 'd-77' } });
    const b = use(2 * MIN, { device: { id: 'd-77' } });
    const c = use(3 * MIN, { device: { id: 'd-77' }, geo: { country: 'AU' } });
    const first = run([a, b, a]);
    expect(first.hits.map((h) => h.eventIds[0])).toEqual([a.id]);
    expect(run([a, c]).hits).toHaveLength(2);
    expect(run([a], ALL, first.window).hits).toEqual([]); // replay against the committed window
  });

  it('out of order: the flagged sessions and differences do not depend on arrival order', () => {
    const evs = [use(MIN, { device: { id: 'd-77' } }), use(2 * MIN), use(3 * MIN, { geo: { country: 'AU' } }), use(4 * MIN, { device: { id: 'd-77' } })];
    const keys = (hs: ReturnType<typeof run>['hits']) => hs.map((h) => JSON.stringify(h.evidence.event)).sort();
    expect(keys(run([...evs].reverse()).hits)).toEqual(keys(run(evs).hits));
    expect(run(evs).hits).toHaveLength(2);
  });

  it('through the reducer: a hijacked session raises the configured level', () => {
    const behaviors: BehaviorConfig[] = [
      { id: 'session_hijack', kind: 'session_hijack', enabled: true, risk_level: 'high', expires_after: 24 * 60 * MIN, params: { enabled: true, ...ALL } },
    ];
    const e = use(MIN, { network: { asn: 1221 } });
    const r = reduce(emptyState('alice@example.com'), [{ event: e, ref: { stream: 'activity', id: '1-0' } }], behaviors, T0 + 2 * MIN, LIMITS);
    expect(r.state.level).toBe('high');
    expect(r.hits.map((h) => h.behavior)).toEqual(['session_hijack']);
  });

  it('a report whose hit expired (a backfill that arrived expired) does not silence the hijack still going on', () => {
    const params = { ...ALL, expires_after: 24 * 3_600_000 };
    const now = T0 + 49 * 3_600_000;
    const evil = { device: { id: 'd-evil' } };
    let w: HijackWindow | undefined;
    const hitsAt: number[] = [];
    for (const e of [use(3_600_000, evil), use(48 * 3_600_000, evil), use(48 * 3_600_000 + MIN, evil)]) {
      const r = sessionHijack.detect(w, { event: e, eventId: e.id! }, params, now, LIMITS);
      w = r.window;
      hitsAt.push(...r.hits.map((h) => h.time - T0));
    }
    // The first report expired at T0 + 25h: the live use is flagged; its repeat a minute later is not.
    expect(hitsAt).toEqual([3_600_000, 48 * 3_600_000]);
  });
});
