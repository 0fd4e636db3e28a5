import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { behaviorSchema } from '../src/config/behaviors-schema.js';
import { impossibleTravel } from '../src/detect/impossible-travel.js';
import { GeoIp } from '../src/ingest/geoip.js';
import { routeEvent } from '../src/ingest/http-body.js';
import { acceptedCredential, isCredentialAccepted, isFailedLogin, isLogin, isSuccessfulLogin } from '../src/login.js';
import { isSessionLogin } from '../src/sessions/identity.js';
import type { CanonicalEvent } from '../src/types.js';
import { buildMmdb, cityRecord } from './ingest/helpers/mmdb-writer.js';

// Ingest (routing, GeoIP), sessions and impossible travel agree on what a login is (issue 15).
const dir = mkdtempSync(join(tmpdir(), 'rs-login-'));
let geo: GeoIp;
beforeAll(async () => {
  const file = join(dir, 'city.mmdb');
  writeFileSync(file, buildMmdb([{ cidr: '81.2.69.0/24', data: cityRecord({ lat: 51.5, lon: -0.09, radius: 20, country: 'GB', city: 'London' }) }]));
  geo = await GeoIp.open(file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const streams = { login: 'in:login', activity: 'in:activity' };
const travel = behaviorSchema('impossible_travel').parse({ risk_level: 'high' });
const ev = (type: string, outcome?: string): CanonicalEvent => ({
  type,
  user: 'alice@example.com',
  time: Date.parse('2026-11-23T08:00:00Z'),
  ip: '81.2.69.142',
  session: { id: 's-1' },
  ...(outcome === undefined ? {} : { outcome }),
});

//  event                              login   successful
const TABLE: Array<[CanonicalEvent, boolean, boolean]> = [
  [ev('login', 'success'), true, true],
  [ev('login'), true, true], // no outcome: a success (shippers that send only successes)
  [ev('login', ''), true, true],
  [ev('login', 'SUCCESS'), true, true],
  [ev('login', 'failure'), true, false],
  [ev('login', 'denied'), true, false],
  [ev('session_refresh', 'success'), true, true],
  [ev('refresh'), true, true],
  [ev('Refresh', 'success'), true, true],
  [ev(' LOGIN ', 'success'), true, true],
  [ev('refresh', 'failure'), true, false],
  [ev('mfa', 'success'), false, false],
  [ev('access', 'success'), false, false],
  [ev('dlp'), false, false],
  [ev('logins', 'success'), false, false],
];

describe('one login definition', () => {
  it.each(TABLE)('%o → login %s, successful %s', (event, login, successful) => {
    expect(isLogin(event)).toBe(login);
    expect(isSuccessfulLogin(event)).toBe(successful);
    // ingest: logins go to the login stream; logins and other uses of a session are located from their ip
    expect(routeEvent(event, streams)).toBe(login ? streams.login : streams.activity);
    expect(geo.enrich({ ...event }).geo !== undefined).toBe(login || event.session?.id !== undefined);
    const { session: _, ...sessionless } = event;
    expect(geo.enrich(sessionless).geo !== undefined).toBe(login);
    // sessions: a successful login carrying a session id stores an identity
    expect(isSessionLogin(event)).toBe(successful);
    // detectors: impossible travel judges the successful logins
    expect(impossibleTravel.accepts(event, travel)).toBe(successful);
  });
});

// A sign-in whose password was right but which did not complete (Entra 50074 interrupts, Conditional
// Access blocks): the success that completes a credential attack, never a failed guess.
const acc = (type: string, outcome?: string, reason?: string): CanonicalEvent => ({ ...ev(type, outcome), ...(reason === undefined ? {} : { reason }) });
//  event                                                   accepted as
const ACCEPTED: Array<[CanonicalEvent, 'interrupted' | 'blocked' | undefined]> = [
  [acc('login', 'interrupted'), 'interrupted'],
  [acc('login', ' Interrupted '), 'interrupted'],
  [acc('Login', 'interrupted', 'bad_password'), 'interrupted'],
  [acc('login', 'blocked', 'blocked_by_policy'), 'blocked'],
  [acc('login', 'failure', 'blocked_by_policy'), 'blocked'],
  [acc('login', 'denied', 'Blocked_By_Policy'), 'blocked'],
  [acc('login', 'timeout', 'blocked_by_policy'), 'blocked'],
  [acc('login', 'success', 'blocked_by_policy'), undefined], // a success is a success
  [acc('login', undefined, 'blocked_by_policy'), undefined], // no outcome: a success
  [acc('login', 'blocked'), undefined], // blocked, but not said to be by policy
  [acc('login', 'failure', 'bad_password'), undefined],
  [acc('login', 'failure'), undefined],
  [acc('login', 'success'), undefined],
  [acc('session_refresh', 'interrupted'), undefined], // a refresh presents no credential
  [acc('refresh', 'failure', 'blocked_by_policy'), undefined],
  [acc('mfa', 'interrupted'), undefined],
  [acc('access', 'denied', 'blocked_by_policy'), undefined],
];

describe('an accepted credential', () => {
  it.each(ACCEPTED)('%o → %s', (event, as) => {
    expect(acceptedCredential(event)).toBe(as);
    expect(isCredentialAccepted(event)).toBe(as !== undefined);
    // Never a success as well: the two are apart (a failure blocked by policy is a failed login, not a guess).
    if (as) expect(isSuccessfulLogin(event)).toBe(false);
    if (as === 'interrupted') expect(isFailedLogin(event)).toBe(false);
  });
});
