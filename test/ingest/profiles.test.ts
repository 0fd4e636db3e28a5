import { countryCode } from '../../src/country-code.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/ingest/decode.js';
import { cloudtrail } from '../../src/ingest/profiles/cloudtrail.js';
import { entra } from '../../src/ingest/profiles/entra.js';
import { genericProfile } from '../../src/ingest/profiles/generic.js';
import { detectProfile, resolveProfile, streamProfiles } from '../../src/ingest/profiles/index.js';
import { okta } from '../../src/ingest/profiles/okta.js';
import { isRiskstreamError } from '../../src/errors.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const T = Date.parse('2026-11-23T08:00:00Z');
const decode = (o: unknown) => {
  const r = decodeObject(o, undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};

describe('okta profile (System Log LogEvent)', () => {
  const sample = fixture('okta-session-start.json');

  it('maps a user.session.start to a canonical login', () => {
    expect(decode(sample)).toMatchObject({
      type: 'login',
      id: 'dc9fd3c0-598c-11ef-8478-2b7584bf8d5a',
      user: 'alice.ng@example.com',
      time: T,
      outcome: 'success',
      ip: '81.2.69.142',
      geo: { lat: 51.5164, lon: -0.093, city: 'London', country: 'GB' },
      session: { id: 'idxBager62CSveUkTxvgRtonA', idp: 'okta' },
      device: { type: 'Computer' },
      network: { asn: 2856, as_org: 'british telecommunications plc', isp: 'british telecommunications plc', proxy: false },
      user_agent: expect.stringContaining('Chrome/120'),
      display_message: 'User login to Okta',
      vendor: 'okta',
      event_type: 'user.session.start',
    });
  });

  it("keeps Okta's own fields as attributes, but none in place of a canonical field", () => {
    const e = decode({ ...sample, debugContext: { debugData: { threatSuspected: 'true' } } });
    expect(e).toMatchObject({
      debugContext: { debugData: { threatSuspected: 'true' } },
      eventType: 'user.session.start',
      actor: { alternateId: 'Alice.Ng@Example.com' },
    });
    expect(e.outcome).toBe('success'); // Okta's outcome object is mapped, not kept
  });

  it("takes device.id and posture from Okta's own device (Okta Verify, FastPass)", () => {
    const device = {
      id: 'guo-laptop-1',
      name: 'MacBook',
      os_platform: 'OSX',
      os_version: '14.5',
      managed: true,
      registered: true,
      disk_encryption_type: 'ALL_INTERNAL_VOLUMES',
      screen_lock_type: 'BIOMETRIC',
    };
    expect(decode({ ...sample, device }).device).toEqual({
      id: 'guo-laptop-1',
      name: 'MacBook',
      type: 'Computer',
      posture: { os: 'OSX 14.5', managed: true, registered: true, disk_encryption: 'ALL_INTERNAL_VOLUMES', screen_lock: 'BIOMETRIC' },
    });
  });

  it("keeps the country and city of a place without coordinates (the country's ISO code)", () => {
    const client = { ...(sample.client as object), geographicalContext: { city: 'Mountain View', country: 'United States', geolocation: null } };
    expect(decode({ ...sample, client }).geo).toEqual({ city: 'Mountain View', country: 'US' });
  });

  it('reads a DENY as denied (as ALLOW is a success)', () => {
    expect(decode({ ...sample, outcome: { result: 'DENY' } })).toMatchObject({ type: 'login', outcome: 'denied' });
  });

  it('maps an SSO failure (an app refused, no credential presented) to access denied, and keeps other event types by name', () => {
    const sso = decode({ ...sample, eventType: 'user.authentication.sso', outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } });
    expect(sso).toMatchObject({ type: 'access', outcome: 'denied', outcome_reason: 'INVALID_CREDENTIALS' });
    const lock = decode({ ...sample, eventType: 'user.account.lock', outcome: { result: 'SUCCESS' } });
    expect(lock.type).toBe('user.account.lock');
  });

  it('omits geo without coordinates (GeoIP may locate it) and unknown session ids', () => {
    const client = { ...(sample.client as object), geographicalContext: { city: null, country: null, geolocation: null } };
    const e = decode({ ...sample, client, authenticationContext: { externalSessionId: 'unknown' } });
    expect(e.geo).toBeUndefined();
    expect(e.session).toBeUndefined();
    // An empty one too (a failed login's): absent, not a record refused whole (found by a black-box review).
    for (const externalSessionId of ['', '  ']) {
      const failed = decode({ ...sample, outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }, authenticationContext: { externalSessionId } });
      expect(failed).toMatchObject({ type: 'login', outcome: 'failure' });
      expect(failed.session).toBeUndefined();
    }
  });

  it('returns null for other shapes', () => {
    expect(okta({ foo: 1 })).toBeNull();
  });
});

describe('entra profile (Microsoft Graph signIn)', () => {
  const sample = fixture('entra-signin.json');

  it('maps a successful sign-in', () => {
    expect(decode(sample)).toMatchObject({
      type: 'login',
      id: '66ea54eb-6301-4ee5-be62-ff5a759b0100',
      user: 'testaccount1@contoso.com',
      time: T,
      outcome: 'success',
      ip: '131.107.159.37',
      geo: { lat: 47.68050003051758, lon: -122.12094116210938, city: 'Redmond', country: 'US' },
      session: { id: 'd79f5bee-5860-4832-928f-3133e22ae912', idp: 'entra' },
      device: { posture: { os: 'Windows 10', browser: 'Edge 80.0.361' } },
      app: 'Graph Explorer',
      vendor: 'entra',
    });
    expect(decode(sample).failure_reason).toBeUndefined();
  });

  it('maps a failure (errorCode ≠ 0) and prefers sessionId', () => {
    const e = decode({ ...sample, sessionId: 'sess-1', status: { errorCode: 50126, failureReason: 'Invalid username or password.' } });
    expect(e).toMatchObject({ outcome: 'failure', error_code: 50126, failure_reason: 'Invalid username or password.', session: { id: 'sess-1' } });
  });

  it('falls back to correlationId when sessionId is empty, and keeps a place without coordinates', () => {
    const location = { city: 'Redmond', countryOrRegion: 'US', geoCoordinates: { latitude: null, longitude: null } };
    const e = decode({ ...sample, sessionId: '', correlationId: 'corr-1', location });
    expect(e.session).toEqual({ id: 'corr-1', idp: 'entra' });
    expect(e.geo).toEqual({ city: 'Redmond', country: 'US' });
    expect(e).toMatchObject({ location, userPrincipalName: 'TestAccount1@contoso.com' }); // the record's own fields kept
  });

  it("reads the Azure Monitor diagnostic export (category SignInLogs, properties), keeping the record's own fields", () => {
    const record = {
      time: '2026-11-23T08:00:00.0000000Z',
      operationName: 'Sign-in activity',
      category: 'SignInLogs',
      resultType: '0',
      tenantId: 't-1',
      location: 'US',
      properties: { ...sample, createdDateTime: undefined },
    };
    const e = decode(JSON.parse(JSON.stringify(record)));
    expect(e).toMatchObject({ type: 'login', user: 'testaccount1@contoso.com', time: T });
    // Kept as attributes, as every profile keeps its record's fields; where both name one, the
    // sign-in's wins (its place, not the record's region).
    expect(e).toMatchObject({ operationName: 'Sign-in activity', category: 'SignInLogs', resultType: '0', tenantId: 't-1' });
    expect(e.geo).toMatchObject({ country: 'US', city: 'Redmond' });
    expect(e.properties).toBeUndefined();
  });

  it('returns null for other shapes', () => {
    expect(entra({ userPrincipalName: 'x' })).toBeNull();
  });
});

describe('cloudtrail profile', () => {
  const sample = fixture('cloudtrail-console-login.json');

  it('maps a ConsoleLogin success', () => {
    expect(decode(sample)).toMatchObject({
      type: 'login',
      id: '3fcfb182-98f8-4744-bd45-10a395ab61cb',
      user: 'JohnDoe',
      time: T,
      outcome: 'success',
      ip: '192.0.2.110',
      mfa: true,
      account: '111122223333',
      identity_type: 'IAMUser',
      vendor: 'aws',
    });
  });

  it('maps a failure, a root login and a federated (assumed-role) login', () => {
    const fail = decode({
      ...sample,
      responseElements: { ConsoleLogin: 'Failure' },
      errorMessage: 'Failed authentication',
      additionalEventData: { MFAUsed: 'No' },
    });
    expect(fail).toMatchObject({ outcome: 'failure', error: 'Failed authentication', mfa: false });
    const root = decode({
      ...sample,
      userIdentity: { type: 'Root', principalId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333' },
    });
    expect(root.user).toBe('arn:aws:iam::111122223333:root');
    const sso = decode({
      ...sample,
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:bob@example.com',
        arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/Bob@Example.com',
        accountId: '111122223333',
      },
    });
    expect(sso.user).toBe('bob@example.com');
  });

  it('maps other API calls to aws.<eventName> and service source addresses to `source`', () => {
    const e = decode({ ...sample, eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', sourceIPAddress: 'AWS Internal', responseElements: null });
    expect(e).toMatchObject({ type: 'aws.CreateUser', outcome: 'success', source: 'AWS Internal' });
    expect(e.ip).toBeUndefined();
    expect(cloudtrail({ eventName: 'x' })).toBeNull();
  });
});

describe('generic profile', () => {
  const p = genericProfile('idp', {
    type: '=login',
    user: 'subject.email|subject.id',
    time: 'ts',
    'geo.lat': 'loc.0',
    'geo.lon': 'where.lon',
    outcome: 'result',
  });

  it('maps dotted paths, alternatives and constants, keeping source fields', () => {
    const src = { subject: { id: 'u-1' }, ts: '2026-11-23T08:00:00Z', where: { lon: 2 }, result: 'ok', extra: 1 };
    expect(p(src)).toEqual({ ...src, type: 'login', user: 'u-1', time: '2026-11-23T08:00:00Z', outcome: 'ok', geo: { lon: 2 } });
    expect(src).not.toHaveProperty('type'); // pure
  });

  it('does not mutate nested source objects', () => {
    const src = { subject: { email: 'a@b.c' }, ts: 1, geo: { lat: 1 }, where: { lon: 5 } };
    const out = p(src)!;
    expect(out.geo).toEqual({ lat: 1, lon: 5 });
    expect(src.geo).toEqual({ lat: 1 });
  });

  it('finds a source path under dotted keys (ECS-style documents), the nested form first', () => {
    const src = { 'subject.email': 'a@b.c', ts: 1, where: { 'lon.x': 0 }, 'where.lon': 7, result: 'ok' };
    expect(p(src)).toMatchObject({ user: 'a@b.c', geo: { lon: 7 } });
    const mixed = { subject: { 'id.x': 1 }, 'subject.id': 'u-2', ts: 1 };
    expect(p(mixed)).toMatchObject({ user: 'u-2' });
    expect(p({ subject: { email: 'nested@b.c' }, 'subject.email': 'dotted@b.c', ts: 1 })).toMatchObject({ user: 'nested@b.c' });
    const deep = genericProfile('deep', { user: 'a.b.c.d' });
    for (const o of [{ 'a.b.c.d': 'u' }, { a: { 'b.c': { d: 'u' } } }, { 'a.b': { c: { d: 'u' } } }, { a: { b: { 'c.d': 'u' } } }]) {
      expect(deep(o)).toMatchObject({ user: 'u' });
    }
    expect(deep({ 'a.b': { 'c.e': 'u' } })!.user).toBeUndefined();
  });

  it('rejects unusable field names at compile time', () => {
    expect(() => genericProfile('bad', { '__proto__.x': 'a' })).toThrow(/invalid field name/);
    expect(() => genericProfile('bad', { user: '|' })).toThrow(/empty source path/);
  });
});

describe('profile resolution and detection', () => {
  it('resolves built-in and generic ids; unknown ones are CONFIG_INVALID', () => {
    expect(resolveProfile('okta')).toBe(okta);
    expect(typeof resolveProfile('generic:x', { generic: { x: { user: 'u' } } })).toBe('function');
    for (const id of ['nope', 'generic:missing', 'toString', '__proto__']) {
      try {
        resolveProfile(id, { generic: {} });
        expect.fail(`resolved ${id}`);
      } catch (e) {
        expect(isRiskstreamError(e, 'CONFIG_INVALID')).toBe(true);
      }
    }
  });

  it('detects vendor shapes, not canonical events', () => {
    expect(detectProfile(fixture('okta-session-start.json'))?.id).toBe('okta');
    expect(detectProfile(fixture('entra-signin.json'))?.id).toBe('entra');
    expect(detectProfile(fixture('cloudtrail-console-login.json'))?.id).toBe('cloudtrail');
    expect(detectProfile({ user: 'a', eventSource: 'x', eventName: 'y' })).toBeNull();
    expect(detectProfile({ type: 'login' })).toBeNull();
  });

  it('compiles per-stream profiles once per mapping object', () => {
    const mapping = { streams: { a: 'okta', b: 'generic:g' }, generic: { g: { user: 'x' } } };
    const m = streamProfiles(mapping);
    expect(streamProfiles(mapping)).toBe(m);
    expect([...m.keys()]).toEqual(['a', 'b']);
    expect(() => streamProfiles({ streams: { a: 'x' }, generic: {} })).toThrow(/unknown mapping profile/);
  });
});

describe('country names to ISO codes', () => {
  it.each<[unknown, unknown]>([
    ['United Kingdom', 'GB'],
    ['united states', 'US'],
    ['Germany', 'DE'],
    ['gb', 'GB'],
    [' AU ', 'AU'],
    ['Atlantis', 'Atlantis'],
    // MaxMind's English names (which Okta's resemble) where ICU spells them otherwise (found by a black-box review: "Hong Kong" then HK made a false session_hijack).
    ['Hong Kong', 'HK'],
    ['Turkey', 'TR'],
    ['Türkiye', 'TR'],
    ['Bosnia and Herzegovina', 'BA'],
    ['Myanmar', 'MM'],
    ['Macao', 'MO'],
    ['Ivory Coast', 'CI'],
    ['DR Congo', 'CD'],
    ['Congo Republic', 'CG'],
    ['Palestine', 'PS'],
    ['Cabo Verde', 'CV'],
    ['St Kitts and Nevis', 'KN'],
    ['Saint Martin', 'MF'],
    ['São Tomé and Príncipe', 'ST'],
    ['Sao Tome and Principe', 'ST'],
    ['Åland', 'AX'],
    ['The Netherlands', 'NL'],
    ['Bonaire, Sint Eustatius, and Saba', 'BQ'],
    ['Saint Vincent and the Grenadines', 'VC'],
    ['Hashemite Kingdom of Jordan', 'JO'],
    ['Republic of Lithuania', 'LT'],
    ['South Korea', 'KR'],
    ['Côte d’Ivoire', 'CI'],
    ['Trinidad & Tobago', 'TT'],
    ['Burma', 'MM'],
    [null, null],
    [42, 42],
  ])('%j → %j', (v, want) => {
    expect(countryCode(v)).toEqual(want);
  });
});

describe('a vendor record missing a field its profile needs (found by a fuzz review)', () => {
  it.each([
    [
      'Okta without actor',
      { eventType: 'user.session.start', published: '2026-11-23T08:00:00Z', uuid: 'x' },
      'an Okta record, but an Okta System Log event needs',
    ],
    ['Okta with a numeric eventType', { eventType: 5, published: '2026-11-23T08:00:00Z', actor: { alternateId: 'a@b.c' } }, 'an Okta record'],
    [
      'CloudTrail without eventSource',
      { eventVersion: '1.08', eventName: 'ConsoleLogin', awsRegion: 'us-east-1' },
      'a CloudTrail record, but a CloudTrail record needs',
    ],
    ['Entra without createdDateTime', { userPrincipalName: 'a@b.c' }, 'an Entra record, but an Entra sign-in needs'],
  ])('%s: the reason says which shape it resembles and what it lacks', (_n, record, says) => {
    const r = decodeObject(record, undefined);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(`(it looks like ${says}`);
  });

  it('a canonical event missing a field says nothing of vendors', () => {
    const r = decodeObject({ type: 'login', time: T }, undefined);
    expect(!r.ok && r.reason).toBe('user: required');
  });
});
