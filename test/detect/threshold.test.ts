import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import { impossibleTravel } from '../../src/detect/impossible-travel.js';
import { MAX_GROUPS, matchValue, threshold } from '../../src/detect/threshold.js';
import { MIN, T0, ev, login, run } from './fixtures.js';

const impossibleTravelParams = behaviorSchema('impossible_travel');
const thresholdParams = behaviorSchema('threshold');

const params = (p: Record<string, unknown>) => thresholdParams.parse({ kind: 'threshold', enabled: true, risk_level: 'medium', ...p });
const failedLogins = params({ match: { type: 'login', outcome: 'failure' }, count: 10, window: '5m' });

describe('threshold', () => {
  it('a failed login is ignored by impossible travel but counted by a threshold', () => {
    const places = ['London', 'Sydney', 'NewYork', 'Tokyo'] as const;
    const fails = Array.from({ length: 10 }, (_, i) => login(places[i % 4]!, i * 20_000, { outcome: 'failure' }));
    const it = impossibleTravelParams.parse({ enabled: true, risk_level: 'high' });
    expect(run(impossibleTravel, it, fails).hits).toEqual([]);
    const r = run(threshold, failedLogins, fails);
    expect(r.perEvent.map((h) => h.length)).toEqual([...Array(9).fill(0), 1]);
    expect(r.hits[0]).toMatchObject({
      time: T0 + 180_000,
      summary: '10 matching events in 5m (threshold 10)',
      evidence: { count: 10, threshold: 10, window: '5m', window_ms: 300_000, group: {}, first: new Date(T0).toISOString() },
    });
    expect(r.hits[0]!.evidence.event_ids).toEqual(fails.map((e) => e.id));
  });

  it('type matches without case, as the credential detectors read it (LOGIN is a login); a regex sees the type as given', () => {
    const fails = Array.from({ length: 10 }, (_, i) => ({ ...login('London', i * 20_000, { outcome: 'failure' }), type: i % 2 ? 'LOGIN' : 'Login' }));
    expect(run(threshold, failedLogins, fails).hits).toHaveLength(1);
    const upper = params({ match: { type: { in: ['Login'] }, outcome: 'failure' }, count: 10, window: '5m' });
    expect(run(threshold, upper, fails).hits).toHaveLength(1);
    const regex = params({ match: { type: { regex: '^login$' }, outcome: 'failure' }, count: 10, window: '5m' });
    expect(run(threshold, regex, fails).hits).toHaveLength(0);
  });

  it('9 failures in 5 minutes, or 10 over 6 minutes: nothing', () => {
    expect(
      run(
        threshold,
        failedLogins,
        Array.from({ length: 9 }, (_, i) => login('London', i * 1_000, { outcome: 'failure' })),
      ).hits,
    ).toEqual([]);
    expect(
      run(
        threshold,
        failedLogins,
        Array.from({ length: 10 }, (_, i) => login('London', i * 40_000, { outcome: 'failure' })),
      ).hits,
    ).toEqual([]);
  });

  it('successful logins do not match', () => {
    expect(
      run(
        threshold,
        failedLogins,
        Array.from({ length: 12 }, (_, i) => login('London', i * 1_000)),
      ).hits,
    ).toEqual([]);
  });

  it('group_by counts each value tuple separately', () => {
    const p = params({ match: { type: 'login', outcome: 'failure' }, count: 5, window: '5m', group_by: ['ip'] });
    const from = (ip: string, i: number) => login('London', i * 10_000, { outcome: 'failure', ip });
    const events = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => from(i % 2 ? '203.0.113.9' : '198.51.100.7', i));
    // 198.51.100.7 gets 5 (i = 0,2,4,6,8), 203.0.113.9 gets 4.
    const r = run(threshold, p, events);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ count: 5, group: { ip: '198.51.100.7' } });
    expect(r.hits[0]!.summary).toBe('5 matching events in 5m (threshold 5) for ip=198.51.100.7');
    expect(Object.keys(r.window!)).toHaveLength(2);
    // The other group reaches its own count later.
    expect(run(threshold, p, [...events, from('203.0.113.9', 9)]).hits.map((h) => h.evidence.group)).toEqual([{ ip: '198.51.100.7' }, { ip: '203.0.113.9' }]);
  });

  it('group_by with several fields and a missing value', () => {
    const p = params({ match: { type: 'access', outcome: 'denied' }, count: 2, window: '1m', group_by: ['app', 'device.id'] });
    const r = run(threshold, p, [ev('access', 0, { outcome: 'denied', app: 'payroll' }), ev('access', 1_000, { outcome: 'denied', app: 'payroll' })]);
    expect(r.hits[0]!.evidence.group).toEqual({ app: 'payroll', 'device.id': null });
  });

  it('group_by reads a path through a list of objects as match does: the app of Okta target: [{type: User}, {type: AppInstance, displayName}]', () => {
    const p = params({ match: { type: 'x', 'target.type': 'AppInstance' }, count: 2, window: '1m', group_by: ['target.displayName'] });
    const reach = (app: string, at: number) =>
      ev('x', at, {
        target: [
          { type: 'User', displayName: 'Alice' },
          { type: 'AppInstance', displayName: app },
        ],
      });
    // One reach of each app: two groups, neither at its count.
    expect(run(threshold, p, [reach('Salesforce', 0), reach('Workday', 1_000)]).hits).toEqual([]);
    const r = run(threshold, p, [reach('Salesforce', 0), reach('Workday', 1_000), reach('Salesforce', 2_000)]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence.group).toEqual({ 'target.displayName': '["Alice","Salesforce"]' });
  });

  it('group_by keys a value by its string form, as match compares it (403 in JSON, "403" in a flat field)', () => {
    const p = params({ match: { type: 'x', code: 403 }, count: 2, window: '1m', group_by: ['code'] });
    const r = run(threshold, p, [ev('x', 0, { code: '403' }), ev('x', 1_000, { code: 403 })]);
    expect(r.hits).toHaveLength(1);
    expect(Object.keys(r.window!)).toEqual(['["403"]']);
  });

  it('bounds its groups', () => {
    const p = params({ match: { type: 'x' }, count: 2, window: '1m', group_by: ['k'] });
    const r = run(
      threshold,
      p,
      Array.from({ length: 200 }, (_, i) => ev('x', i, { k: `v${i}` })),
    );
    expect(Object.keys(r.window!).length).toBeLessThanOrEqual(MAX_GROUPS);
  });

  it('bounds event ids in evidence', () => {
    const p = params({ match: { type: 'x' }, count: 50, window: '1m' });
    const r = run(
      threshold,
      p,
      Array.from({ length: 50 }, (_, i) => ev('x', i * 100)),
    );
    expect(r.hits).toHaveLength(1);
    expect((r.hits[0]!.evidence.event_ids as string[]).length).toBe(20);
  });

  it('groups of events stamped in the future (a skewed source) hold at most half of MAX_GROUPS: a real burst in a new group still fires', () => {
    const p = params({ match: { type: 'x' }, count: 2, window: '1m', group_by: ['k'] });
    const DAY = 24 * 60 * MIN;
    const skewed = Array.from({ length: MAX_GROUPS }, (_, i) => ev('x', DAY + i * MIN, { k: `skewed-${i}` }));
    const real = [ev('x', 0, { k: 'real' }), ev('x', 1_000, { k: 'real' })];
    const r = run(threshold, p, [...skewed, ...real], { now: T0 + MIN });
    expect(r.hits.map((h) => h.time)).toEqual([T0 + 1_000]);
    const kept = Object.keys(r.window!);
    expect(kept).toHaveLength(MAX_GROUPS / 2 + 1);
    // Of the skewed groups, the nearest in time are kept.
    expect(kept).toContain('["skewed-0"]');
    expect(kept).not.toContain(`["skewed-${MAX_GROUPS - 1}"]`);
  });

  it('drops groups that have gone quiet', () => {
    const p = params({ match: { type: 'x' }, count: 3, window: '1m', group_by: ['k'] });
    const r = run(threshold, p, [ev('x', 0, { k: 'a' }), ev('x', 60 * MIN, { k: 'b' })]);
    expect(Object.keys(r.window!)).toEqual(['["b"]']);
  });

  it('a window longer than state.login_max_age (7d here) counts its whole window, per group too', () => {
    const DAY = 24 * 60 * MIN;
    const p = params({ match: { type: 'vpn', outcome: 'denied' }, count: 3, window: '14d' });
    const r = run(
      threshold,
      p,
      [0, 8, 10].map((d) => ev('vpn', d * DAY, { outcome: 'denied' })),
    );
    expect(r.hits.map((h) => h.time)).toEqual([T0 + 10 * DAY]);
    const g = params({ match: { type: 'vpn' }, count: 3, window: '14d', group_by: ['k'] });
    const q = run(threshold, g, [ev('vpn', 0, { k: 'a' }), ev('vpn', DAY, { k: 'a' }), ev('vpn', 9 * DAY, { k: 'b' }), ev('vpn', 10 * DAY, { k: 'a' })]);
    expect(q.hits.map((h) => [h.time, h.evidence.group])).toEqual([[T0 + 10 * DAY, { k: 'a' }]]);
  });

  it.each([
    { value: 'login', m: 'login', ok: true },
    { value: 'Login', m: 'login', ok: false },
    { value: 404, m: '404', ok: true },
    { value: '404', m: 404, ok: true },
    { value: true, m: true, ok: true },
    { value: 'failure', m: { equals: 'failure' }, ok: true },
    { value: 'denied', m: { in: ['failure', 'denied'] }, ok: true },
    { value: 'success', m: { in: ['failure', 'denied'] }, ok: false },
    { value: 'bob@corp.example', m: { regex: '@corp\\.example$' }, ok: true },
    { value: 'bob@corp.example.evil', m: { regex: '@corp\\.example$' }, ok: false },
    { value: ['eng', 'admins'], m: 'admins', ok: true },
    { value: ['eng'], m: { regex: '^adm' }, ok: false },
    { value: undefined, m: { regex: '.*' }, ok: false },
    { value: null, m: 'null', ok: false },
    { value: { a: 1 }, m: { regex: '.*' }, ok: false },
  ] as const)('matcher $m on $value → $ok', ({ value, m, ok }) => {
    expect(matchValue(value, m as never)).toBe(ok);
  });

  it('all match entries must match, on dotted paths', () => {
    const p = params({ match: { type: 'dlp', 'device.posture.disk_encrypted': false, severity: { in: ['high', 'critical'] } }, count: 1, window: '1m' });
    expect(run(threshold, p, [ev('dlp', 0, { severity: 'high', device: { posture: { disk_encrypted: false } } })]).hits).toHaveLength(1);
    expect(run(threshold, p, [ev('dlp', 0, { severity: 'high', device: { posture: { disk_encrypted: true } } })]).hits).toHaveLength(0);
    expect(run(threshold, p, [ev('dlp', 0, { severity: 'low', device: { posture: { disk_encrypted: false } } })]).hits).toHaveLength(0);
  });

  it('a path through a list of objects looks into each one (Okta target.type on target: [{type}, …]); any may match, none: no match', () => {
    const p = params({ match: { 'target.type': 'AppInstance', 'target.detail.level': { in: [3] } }, count: 1, window: '1m' });
    const target = [
      { type: 'User', detail: [{ level: 1 }] },
      { type: 'AppInstance', detail: [{ level: 2 }, { level: 3 }] },
    ];
    expect(run(threshold, p, [ev('user.session.access_admin_app', 0, { target })]).hits).toHaveLength(1);
    expect(run(threshold, p, [ev('user.session.access_admin_app', 0, { target: [target[0]] })]).hits).toHaveLength(0);
    // An index still addresses one element only; the list's own elements are matched as before.
    const first = params({ match: { 'target.0.type': 'AppInstance' }, count: 1, window: '1m' });
    expect(run(threshold, first, [ev('x', 0, { target })]).hits).toHaveLength(0);
    expect(run(threshold, params({ match: { 'target.1.type': 'AppInstance' }, count: 1, window: '1m' }), [ev('x', 0, { target })]).hits).toHaveLength(1);
    // A list found in one of them matches when any of its elements does, as a list field does.
    const tags = params({ match: { 'target.tags': 'admin' }, count: 1, window: '1m' });
    expect(run(threshold, tags, [ev('x', 0, { target: [{ tags: ['eng'] }, { tags: ['ops', 'admin'] }] })]).hits).toHaveLength(1);
    expect(run(threshold, tags, [ev('x', 0, { target: [{ tags: ['eng'] }, {}] })]).hits).toHaveLength(0);
  });
});

describe('threshold match on outcome, as ingest stores it', () => {
  // CONTRACT.md's access event: ingest turns `allowed` into `success` (event-rules.ts).
  const accessJson = (i: number) =>
    JSON.stringify({ type: 'access', id: `acc-${i}`, user: 'alice@example.com', time: T0 + i * 1_000, outcome: 'allowed', app: 'drive' });
  const decoded = Array.from({ length: 3 }, (_, i) => {
    const d = decodeEntry(
      { stream: 'activity', id: `${T0 + i}-0`, fields: { event: accessJson(i) }, deliveries: 1 },
      { mapping: riskstreamSchema.parse({}).mapping },
      T0 + 60_000,
    );
    if (!d.ok) throw new Error(`not decoded: ${JSON.stringify(d)}`);
    return d.event;
  });

  it.each([
    ['a literal', 'allowed'],
    ['a literal in another case', 'Allowed'],
    ['equals', { equals: 'allowed' }],
    ['in', { in: ['allowed', 'denied'] }],
    ['the canonical spelling', 'success'],
  ])('%s matches the access events ingest decoded (outcome allowed)', (_, outcome) => {
    expect(decoded[0]!.outcome).toBe('success');
    const p = params({ match: { type: 'access', outcome }, count: 3, window: '5m' });
    expect(run(threshold, p, decoded).hits).toHaveLength(1);
  });

  it('other outcomes are kept as they are: denied does not match allowed events', () => {
    const p = params({ match: { type: 'access', outcome: 'denied' }, count: 1, window: '5m' });
    expect(run(threshold, p, decoded).hits).toEqual([]);
  });

  it('a regex runs in linear time: a pattern that backtracks catastrophically cannot freeze scoring', () => {
    // With a backtracking engine this test would not finish (≈ 2^40 steps).
    expect(matchValue(`${'a'.repeat(40)}!`, { regex: '^(a+)+$' })).toBe(false);
    expect(matchValue('a'.repeat(40), { regex: '^(a+)+$' })).toBe(true);
    expect(matchValue(`${'x'.repeat(8000)}y`, { regex: '(x+x+)+y' })).toBe(true);
  });

  it('a regex sees the first 8 192 characters of a value', () => {
    expect(matchValue(`${'-'.repeat(8191)}x`, { regex: 'x' })).toBe(true);
    expect(matchValue(`${'-'.repeat(8192)}x`, { regex: 'x' })).toBe(false);
  });

  it.each([
    [{}, ['match']],
    [{ '': 'a' }, ['match']],
    [{ type: { foo: 1 } }, ['match', 'type']],
    [{ type: ['a', 'b'] }, ['match', 'type']],
    [{ app: { regex: '(a)\\1' } }, ['match', 'app', 'regex']],
    [{ app: { regex: '(?=a)b' } }, ['match', 'app', 'regex']],
    [{ app: { regex: '(' } }, ['match', 'app', 'regex']],
    [{ app: { regex: 'a'.repeat(4097) } }, ['match', 'app', 'regex']],
  ])('refuses match %j (at %j)', (match, path) => {
    const r = thresholdParams.safeParse({ kind: 'threshold', enabled: true, risk_level: 'low', match, count: 1, window: '1m' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toContainEqual(path);
  });

  it.each(['^[0-9a-f]{32}$', '^[A-Fa-f0-9]{64}$', '\\w{1,64}@', '^.{1,255}$', '[a-z0-9-]{1,63}\\.[a-z]{2,63}$', '^(drive|box)$', '\\.exe$'])(
    'accepts the usual pattern %s (counted repetitions included)',
    (regex) => {
      expect(
        thresholdParams.safeParse({ kind: 'threshold', enabled: true, risk_level: 'low', match: { app: { regex } }, count: 1, window: '1m' }).success,
      ).toBe(true);
    },
  );

  it('matches as JavaScript would for the usual patterns', () => {
    expect(matchValue('d41d8cd98f00b204e9800998ecf8427e', { regex: '^[0-9a-f]{32}$' })).toBe(true);
    expect(matchValue('d41d8cd98f00b204e9800998ecf8427', { regex: '^[0-9a-f]{32}$' })).toBe(false);
    expect(matchValue('setup.EXE', { regex: '\\.exe$' })).toBe(false);
    expect(matchValue('a\nb', { regex: '^a.b$' })).toBe(false);
    expect(matchValue('xa1', { regex: '\\ba\\d' })).toBe(false);
    expect(matchValue('x a1', { regex: '\\ba\\d' })).toBe(true);
  });
});
