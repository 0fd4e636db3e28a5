import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventOf } from '../helpers/receiver.js';
import { waitFor } from '../helpers/redis.js';
import { MIN, HOUR, recentIso } from '../helpers/clock.js';
import { workerHarness } from '../helpers/worker.js';
import { runCli } from '../cli/run.js';

/**
 * Credential behaviors end to end (issue 18): a real worker, real Redis, a loopback receiver.
 * Brute force then success, an MFA-fatigue burst the user gives in to, and a login from a new
 * country each raise the user's level, a verified SET arrives, and the risk API explains it.
 */
const h = workerHarness('credentials', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/e`, audience: 'https://rx' }] }), {
  behaviors: {
    brute_force: { risk_level: 'high', expires_after: '24h', failures: 5, window: '10m' },
    mfa_fatigue: { risk_level: 'high', expires_after: '24h', count: 5, window: '10m' },
    new_country: { risk_level: 'medium', expires_after: '24h', baseline: '30d', learning: '1h' },
  },
});

const BRUTE = 'guessed@example.com';
const BOMBED = 'bombed@example.com';
const TRAVELLER = 'abroad@example.com';
const NEAR_MISS = 'forgetful@example.com';

async function add(stream: 'login' | 'activity', event: Record<string, unknown>): Promise<void> {
  await h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(event));
}

interface Risk {
  level: string;
  behaviors: Array<{ id: string; summary: string; evidence: Record<string, unknown> }>;
}
async function risk(user: string): Promise<Risk> {
  const res = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Risk;
}

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../ingest/fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** `record` (an Okta System Log event) in Okta session `sessionId`, with `fields` over it. */
const inOktaSession = (record: Record<string, unknown>, sessionId: string, fields: Record<string, unknown>) => ({
  ...record,
  ...fields,
  authenticationContext: { ...(record.authenticationContext as object), externalSessionId: sessionId },
});

/** True once session `id` is stored (its login or refresh processed), else undefined. */
async function stored(id: string): Promise<true | undefined> {
  const res = await fetch(`${h.worker.url}/v1/sessions/${id}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return res.status === 200 ? true : undefined;
}

const setsFor = (user: string) => h.receiver.received.filter((s) => (s.claims.sub_id as { email?: string }).email === user);

describe('credential behaviors, end to end', () => {
  it('brute force then success, an MFA-fatigue burst and a new country raise the level; SETs arrive', async () => {
    for (let i = 0; i < 5; i++) {
      await add('login', {
        type: 'login',
        id: `bf-${i}`,
        user: BRUTE,
        time: recentIso(i * MIN),
        outcome: 'failure',
        ip: i < 3 ? '203.0.113.9' : '198.51.100.7',
      });
      await add('login', { type: 'login', id: `nm-${i}`, user: NEAR_MISS, time: recentIso(i * MIN), outcome: 'failure', ip: '192.0.2.1' });
    }
    await add('login', { type: 'login', id: 'bf-ok', user: BRUTE, time: recentIso(5 * MIN), outcome: 'success', ip: '203.0.113.9' });

    for (let i = 0; i < 5; i++) {
      await add('activity', { type: 'mfa', id: `mfa-${i}`, user: BOMBED, time: recentIso(i * MIN), outcome: i % 2 ? 'timeout' : 'denied', factor: 'push' });
    }
    await add('activity', { type: 'mfa', id: 'mfa-ok', user: BOMBED, time: recentIso(6 * MIN), outcome: 'success', factor: 'push' });

    await add('login', { type: 'login', id: 'nc-1', user: TRAVELLER, time: recentIso(0), ip: '81.2.69.142', geo: { country: 'GB', city: 'London' } });
    await add('login', { type: 'login', id: 'nc-2', user: TRAVELLER, time: recentIso(2 * HOUR), ip: '81.2.69.142', geo: { country: 'GB', city: 'London' } });
    await add('login', { type: 'login', id: 'nc-3', user: TRAVELLER, time: recentIso(3 * HOUR), ip: '92.184.100.1', geo: { country: 'FR', city: 'Paris' } });
    // The near miss's last event, after everything else in its partition's stream: a success 20 min later.
    await add('login', {
      type: 'login',
      id: 'nm-ok',
      user: NEAR_MISS,
      time: recentIso(20 * MIN),
      outcome: 'success',
      ip: '192.0.2.1',
      session: { id: 'nm-session' },
    });

    const expected: Record<string, string> = { [BRUTE]: 'HIGH', [BOMBED]: 'HIGH', [TRAVELLER]: 'MEDIUM' };
    await waitFor(() => Object.entries(expected).every(([u, level]) => setsFor(u).some((s) => eventOf(s).body.current_level === level)), {
      what: 'a SET per user at the expected level',
      timeout: 20_000,
    });
    expect(h.receiver.received.every((s) => s.verified)).toBe(true);
    const reason = (u: string): string => JSON.stringify(eventOf(setsFor(u)[0]!).body.reason_admin);
    expect(reason(BRUTE)).toContain('5 failed logins in 4m from 2 sources, then a successful login from 203.0.113.9');
    expect(reason(BOMBED)).toContain('5 MFA pushes refused');
    expect(reason(TRAVELLER)).toContain('Paris, FR, a country not seen in 30d');

    const brute = await risk(BRUTE);
    expect(brute.level).toBe('high');
    expect(brute.behaviors.find((b) => b.id === 'brute_force')!.evidence).toMatchObject({
      count: 5,
      distinct_sources: 2,
      span: '4m',
      success: { id: 'bf-ok' },
    });

    // The approval after the burst is the latest hit: the API says the user gave in.
    await waitFor(async () => (await risk(BOMBED)).behaviors.find((b) => b.id === 'mfa_fatigue')?.evidence.approved === true, { what: 'the approval judged' });
    const bombed = (await risk(BOMBED)).behaviors.find((b) => b.id === 'mfa_fatigue')!;
    expect(bombed.summary).toContain('then a push was approved');
    expect(bombed.evidence).toMatchObject({ count: 5, denied: 3, timeout: 2, approval_id: 'mfa-ok' });

    // The CLI explains it in the same words.
    const cli = await runCli(['risk', BOMBED, '--config', h.cfg.dir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('mfa_fatigue [high]');
    expect(cli.stdout).toContain('5 MFA pushes refused in 4m (3 denied, 2 unanswered; threshold 5 in 10m), then a push was approved at');

    const abroad = await risk(TRAVELLER);
    expect(abroad.level).toBe('medium');
    expect(abroad.behaviors.find((b) => b.id === 'new_country')!.evidence).toMatchObject({ country: 'FR', known_countries: ['GB'] });

    // Failures followed by a success outside the window: no behavior, no SET (its session's
    // identity, committed with the user's state, shows the success was processed).
    await waitFor(
      async () => {
        const res = await fetch(`${h.worker.url}/v1/sessions/nm-session`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
        return res.status === 200 ? true : undefined;
      },
      { what: 'the near miss processed' },
    );
    expect((await risk(NEAR_MISS)).level).toBe('low');
    expect(setsFor(NEAR_MISS)).toEqual([]);
  }, 40_000);

  it('vendor records: Entra bad passwords then an MFA interrupt (50074) flag brute_force; Okta SSO refusals are no failed logins', async () => {
    const entra = fixture('entra-signin-bad-password.json');
    const ENTRA = 'entra-guessed@example.com';
    for (let i = 0; i < 5; i++)
      await add('login', { ...entra, id: `ebf-${i}`, userPrincipalName: ENTRA, createdDateTime: recentIso(i * MIN), ipAddress: '203.0.113.20' });
    await add('login', {
      ...entra,
      id: 'ebf-mfa',
      userPrincipalName: ENTRA,
      createdDateTime: recentIso(5 * MIN),
      ipAddress: '203.0.113.20',
      status: { errorCode: 50074, failureReason: 'Strong Authentication is required.' },
    });
    // Okta: 5 app sign-ons refused by policy within a session, then a sign-in: no brute force.
    const okta = fixture('okta-session-start.json');
    const OKTA = 'okta-refused@example.com';
    const actor = { ...(okta.actor as object), alternateId: OKTA };
    for (let i = 0; i < 5; i++)
      await add('login', {
        ...okta,
        uuid: `osso-${i}`,
        actor,
        eventType: 'user.authentication.sso',
        published: recentIso(i * MIN),
        outcome: { result: 'FAILURE', reason: 'Sign-on policy evaluation resulted in DENY' },
        target: [{ id: '0oa1', type: 'AppInstance', alternateId: 'payroll', displayName: 'Payroll' }],
      });
    const sessionId = 'okta-refused-session';
    await add('login', inOktaSession(okta, sessionId, { uuid: 'osso-ok', actor, published: recentIso(5 * MIN) }));

    await waitFor(() => setsFor(ENTRA).some((s) => eventOf(s).body.current_level === 'HIGH'), { what: "the Entra user's SET", timeout: 20_000 });
    const bf = (await risk(ENTRA)).behaviors.find((b) => b.id === 'brute_force')!;
    expect(bf.summary).toContain('then a login from 203.0.113.20 with the right password, interrupted (MFA or a prompt required)');
    expect(bf.evidence).toMatchObject({ count: 5, success: { id: 'ebf-mfa', outcome: 'interrupted', password_accepted: true } });

    // The Okta sign-in processed (its session stored), and no behavior.
    await waitFor(() => stored(sessionId), { what: 'the Okta sign-in processed' });
    expect((await risk(OKTA)).level).toBe('low');
    expect(setsFor(OKTA)).toEqual([]);
  }, 40_000);

  it("vendor records: a guessing attack that failed, then the user's own Okta SSO or Entra token refresh: no brute_force; an app refusing a user (50105) is no guess; the attacker's sign-in is", async () => {
    // Okta: 5 wrong passwords from the attacker's address; the user, signed in since the morning, opens Slack.
    const OKTA = 'okta-sso-user@example.com';
    const bad = fixture('okta-session-start-failure.json');
    const sso = fixture('okta-sso.json');
    const actor = { ...(sso.actor as object), alternateId: OKTA };
    for (let i = 0; i < 5; i++) await add('login', { ...bad, uuid: `obad-${i}`, actor, published: recentIso(i * MIN) });
    const oktaSession = 'okta-sso-user-session';
    await add('login', inOktaSession(sso, oktaSession, { uuid: 'osso-slack', actor, published: recentIso(5 * MIN) }));
    // Entra: 5 wrong passwords (50126), then the user's Outlook redeeming its refresh token, once
    // without MFA in its token (50076, the refresh asked for MFA) and once accepted.
    const ENTRA = 'entra-refresh-user@example.com';
    const guess = fixture('entra-signin-bad-password.json');
    const refresh = fixture('entra-signin-noninteractive.json');
    for (let i = 0; i < 5; i++)
      await add('login', { ...guess, id: `ebad-${i}`, userPrincipalName: ENTRA, createdDateTime: recentIso(i * MIN), ipAddress: '203.0.113.21' });
    await add('login', {
      ...refresh,
      id: 'erefresh-mfa',
      userPrincipalName: ENTRA,
      createdDateTime: recentIso(5 * MIN),
      status: { errorCode: 50076, failureReason: 'x' },
    });
    await add('login', { ...refresh, id: 'erefresh-ok', userPrincipalName: ENTRA, createdDateTime: recentIso(5 * MIN + 1000) });
    // Entra: a user opening an app not assigned to them 5 times (50105: authenticated, refused by the app), then signing in.
    const UNASSIGNED = 'entra-unassigned@example.com';
    for (let i = 0; i < 5; i++)
      await add('login', {
        ...guess,
        id: `e50105-${i}`,
        userPrincipalName: UNASSIGNED,
        createdDateTime: recentIso(i * MIN),
        status: { errorCode: 50105, failureReason: 'x' },
      });
    const unassignedSession = 'entra-unassigned-session';
    await add('login', {
      ...fixture('entra-signin.json'),
      id: 'e50105-ok',
      userPrincipalName: UNASSIGNED,
      createdDateTime: recentIso(5 * MIN),
      sessionId: unassignedSession,
    });

    await waitFor(() => stored(oktaSession), { what: "the Okta user's SSO processed" });
    await waitFor(() => stored(refresh.sessionId as string), { what: "the Entra user's token refresh processed" });
    expect((await risk(OKTA)).level).toBe('low');
    await waitFor(() => stored(unassignedSession), { what: "the unassigned user's sign-in processed" });
    expect((await risk(ENTRA)).level).toBe('low');
    expect((await risk(UNASSIGNED)).level).toBe('low');
    expect(setsFor(OKTA)).toEqual([]);
    expect(setsFor(ENTRA)).toEqual([]);
    expect(setsFor(UNASSIGNED)).toEqual([]);

    // The attacker's own sign-in with the guessed password completes the attack.
    await add('login', { ...fixture('okta-session-start.json'), uuid: 'obad-ok', actor, published: recentIso(6 * MIN), client: bad.client });
    await waitFor(() => setsFor(OKTA).some((s) => eventOf(s).body.current_level === 'HIGH'), { what: "the Okta user's SET", timeout: 20_000 });
    const bf = (await risk(OKTA)).behaviors.find((b) => b.id === 'brute_force')!;
    expect(bf.evidence).toMatchObject({ count: 5, success: { id: 'obad-ok' } });
  }, 40_000);

  it('vendor records: CloudTrail wrong passwords, then the right one stopped by MFA (MFAUsed: Yes) flag brute_force', async () => {
    const AWS = 'aws-guessed@example.com'; // IAM user names may be email addresses
    const bad = fixture('cloudtrail-console-login-failure.json');
    const identity = { ...(bad.userIdentity as object), userName: AWS };
    for (let i = 0; i < 5; i++) await add('login', { ...bad, eventID: `ctbad-${i}`, userIdentity: identity, eventTime: recentIso(i * MIN) });
    const mfa = fixture('cloudtrail-console-login-mfa-failure.json');
    await add('login', { ...mfa, eventID: 'ctmfa', userIdentity: identity, eventTime: recentIso(5 * MIN) });
    await waitFor(() => (setsFor(AWS).length > 0 ? true : undefined), { what: "the AWS user's SET", timeout: 20_000 });
    const bf = (await risk(AWS)).behaviors.find((b) => b.id === 'brute_force')!;
    expect(bf.summary).toContain('with the right password, interrupted');
    expect(bf.evidence).toMatchObject({ count: 5, success: { id: 'ctmfa', outcome: 'interrupted', password_accepted: true } });
  }, 40_000);
});
