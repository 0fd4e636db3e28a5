import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { bruteForce } from '../../src/detect/brute-force.js';
import type { CanonicalEvent } from '../../src/types.js';
import { readFileSync } from 'node:fs';
import { decodeObject } from '../../src/ingest/decode.js';
import { MIN, T0, ev, run } from './fixtures.js';

const schema = behaviorSchema('brute_force');
const params = schema.parse({ risk_level: 'high', failures: 5, window: '10m' });

const fail = (at: number, ip = '203.0.113.9'): CanonicalEvent => ev('login', at, { outcome: 'failure', ip });
const ok = (at: number, ip = '203.0.113.9'): CanonicalEvent => ev('login', at, { outcome: 'success', ip });

describe('brute_force', () => {
  it('defaults: 10 failures within 10m', () => {
    expect(schema.parse({ risk_level: 'high' })).toMatchObject({ failures: 10, window: 600_000 });
  });

  it('5 failures then a success: one hit on the success with count, sources and span', () => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN, i < 3 ? '203.0.113.9' : '198.51.100.7'));
    const success = ok(5 * MIN, '203.0.113.9');
    const r = run(bruteForce, params, [...fails, success]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    const h = r.hits[0]!;
    expect(h.time).toBe(T0 + 5 * MIN);
    expect(h.summary).toBe('5 failed logins in 4m from 2 sources, then a successful login from 203.0.113.9 (threshold 5 in 10m)');
    expect(h.evidence).toMatchObject({
      count: 5,
      threshold: 5,
      sources: [
        { ip: '203.0.113.9', failures: 3 },
        { ip: '198.51.100.7', failures: 2 },
      ],
      distinct_sources: 2,
      first_failure: new Date(T0).toISOString(),
      last_failure: new Date(T0 + 4 * MIN).toISOString(),
      span: '4m',
      success: { time: new Date(T0 + 5 * MIN).toISOString(), ip: '203.0.113.9', id: success.id },
    });
    expect(h.eventIds).toEqual([success.id, ...fails.map((f) => f.id)]);
  });

  it.each(['session_refresh', 'Refresh'])(
    'a session refresh (%s) is no guess and no success: failed refreshes, or a refresh after failures, flag nothing',
    (type) => {
      const refresh = (at: number, outcome: string): CanonicalEvent => ({ ...ev('login', at, { outcome, ip: '203.0.113.9' }), type });
      const failedRefreshes = [0, 1, 2, 3, 4].map((i) => refresh(i * MIN, 'failure'));
      expect(run(bruteForce, params, [...failedRefreshes, ok(5 * MIN)]).hits).toEqual([]);
      const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
      expect(run(bruteForce, params, [...fails, refresh(5 * MIN, 'success')]).hits).toEqual([]);
      // The same failures then a login: flagged.
      expect(run(bruteForce, params, [...fails, refresh(5 * MIN, 'success'), ok(6 * MIN)]).hits).toHaveLength(1);
    },
  );

  it('a failure seen again by its id counts once, whatever its time (a retry of a failure without a time of its own)', () => {
    const first = [0, 1, 2, 3].map((i) => fail(i * MIN));
    const retried = first.map((e, i) => ({ ...e, time: e.time + 30_000 + i }));
    const { hits } = run(bruteForce, params, [...first, ...retried, ok(8 * MIN)]);
    expect(hits).toEqual([]);
  });

  it('near misses: 4 failures, failures spread over more than the window, failures without a success', () => {
    expect(run(bruteForce, params, [...[0, 1, 2, 3].map((i) => fail(i * MIN)), ok(4 * MIN)]).hits).toEqual([]);
    // 5 failures, but the first is 10m 1s before the success.
    expect(run(bruteForce, params, [fail(0), ...[1, 2, 3, 4].map((i) => fail(i * MIN)), ok(10 * MIN + 1000)]).hits).toEqual([]);
    expect(
      run(
        bruteForce,
        params,
        [0, 1, 2, 3, 4, 5, 6].map((i) => fail(i * MIN)),
      ).hits,
    ).toEqual([]);
    // The success came before the failures.
    expect(run(bruteForce, params, [ok(0), ...[1, 2, 3, 4, 5].map((i) => fail(i * MIN))]).hits).toEqual([]);
  });

  it('out of order: a late failure completes the count for a success that arrived first', () => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const success = ok(5 * MIN);
    const inOrder = run(bruteForce, params, [...fails, success]).hits;
    const shuffled = run(bruteForce, params, [success, fails[3]!, fails[0]!, fails[4]!, fails[1]!, fails[2]!]);
    expect(shuffled.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(shuffled.hits).toEqual(inOrder);
  });

  it('replay: the same events again add no hit', () => {
    const events = [...[0, 1, 2, 3, 4].map((i) => fail(i * MIN)), ok(5 * MIN)];
    const first = run(bruteForce, params, events);
    expect(first.hits).toHaveLength(1);
    expect(run(bruteForce, params, events, { window: first.window }).hits).toEqual([]);
  });

  it('a failure later than the allowed lateness is dropped; state stays bounded', () => {
    const r = run(bruteForce, params, [fail(60 * MIN), ...[0, 1, 2, 3].map((i) => fail(i * MIN)), ok(5 * MIN)]);
    expect(r.hits).toEqual([]);
    const many = run(
      bruteForce,
      params,
      Array.from({ length: 500 }, (_, i) => fail(i * 1000)),
    );
    expect(many.window!.a.length).toBeLessThanOrEqual(32);
  });
});

describe('brute_force: bounded attempts', () => {
  it('failures stamped in the future (a skewed source) never push real ones out: a real brute force is still flagged', () => {
    const now = T0 + 10 * MIN;
    // 40 failures a day ahead, 30 min apart (more than the 32 attempts kept), then 5 real ones and a success.
    const skewed = Array.from({ length: 40 }, (_, i) => fail(24 * 60 * MIN + i * 30 * MIN, '192.0.2.1'));
    const real = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const r = run(bruteForce, params, [...skewed, ...real, ok(5 * MIN)], { now });
    expect(r.hits.map((h) => h.time)).toEqual([T0 + 5 * MIN]);
  });
});

describe('brute_force: a password accepted but the sign-in not completed (interrupted, blocked by policy)', () => {
  // As the Entra profile maps 50074 (MFA required) and 53003 (blocked by Conditional Access).
  const interrupted = (at: number, ip = '203.0.113.9'): CanonicalEvent => ev('login', at, { outcome: 'interrupted', error_code: 50074, ip });
  const blocked = (at: number, ip = '203.0.113.9'): CanonicalEvent =>
    ev('login', at, { outcome: 'blocked', reason: 'blocked_by_policy', error_code: 53003, ip });

  it.each([
    ['interrupted (50074)', interrupted, 'interrupted (MFA or a prompt required)'],
    ['blocked (53003)', blocked, 'blocked by policy'],
  ])('5 bad passwords then a sign-in %s flag as a success would, saying the password was accepted', (_, accepted, said) => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const last = accepted(5 * MIN, '198.51.100.7');
    const r = run(bruteForce, params, [...fails, last]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    const h = r.hits[0]!;
    expect(h.summary).toBe(`5 failed logins in 4m from 203.0.113.9, then a login from 198.51.100.7 with the right password, ${said} (threshold 5 in 10m)`);
    expect(h.evidence).toMatchObject({
      count: 5,
      success: { time: new Date(T0 + 5 * MIN).toISOString(), ip: '198.51.100.7', id: last.id, outcome: last.outcome, password_accepted: true },
    });
    expect(h.eventIds).toEqual([last.id, ...fails.map((f) => f.id)]);
    // A plain success's evidence says nothing of the kind.
    const plain = run(bruteForce, params, [...fails, ok(5 * MIN)]).hits[0]!.evidence.success as Record<string, unknown>;
    expect(plain.outcome).toBeUndefined();
    expect(plain.password_accepted).toBeUndefined();
  });

  it('out of order: late failures complete an accepted password that arrived first, and the hit still says how it ended', () => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const last = blocked(5 * MIN);
    const r = run(bruteForce, params, [last, fails[2]!, fails[0]!, fails[4]!, fails[1]!, fails[3]!]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(r.hits[0]!.evidence).toMatchObject({ success: { id: last.id, outcome: 'blocked', password_accepted: true } });
    expect(r.hits[0]!.summary).toContain('with the right password, blocked by policy');
  });

  it('sign-ins blocked by policy are never failures: 4 bad passwords and several 53003 flag nothing, until a fifth bad password flags them all', () => {
    const fails = [0, 1, 2, 3].map((i) => fail(i * MIN));
    // A generic shipper's spelling too: outcome failure, reason blocked_by_policy.
    const blocks = [blocked(4 * MIN), blocked(4 * MIN + 10_000), ev('login', 4 * MIN + 20_000, { outcome: 'failure', reason: 'blocked_by_policy' })];
    const success = ok(5 * MIN);
    const r = run(bruteForce, params, [...fails, ...blocks, success]);
    expect(r.hits).toEqual([]);
    // A fifth bad password (arriving late, before the blocks in event time) completes the count for
    // each block and for the success: each is flagged once.
    const more = run(bruteForce, params, [fail(3 * MIN + 30_000)], { window: r.window });
    expect(more.hits.map((h) => h.eventIds[0])).toEqual([...blocks.map((b) => b.id), success.id]);
    expect(more.hits.map((h) => h.evidence.count)).toEqual([5, 5, 5, 5]);
  });

  it('interrupted refreshes and interrupted sign-ins alone flag nothing', () => {
    expect(
      run(
        bruteForce,
        params,
        [0, 1, 2, 3, 4, 5].map((i) => interrupted(i * MIN)),
      ).hits,
    ).toEqual([]);
    const refresh = (at: number) => ({ ...interrupted(at), type: 'session_refresh' });
    expect(run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => fail(i * MIN)), refresh(5 * MIN)]).hits).toEqual([]);
  });
});

describe('brute_force: Okta SSO failures (an app refused within a session) are no guesses', () => {
  const fixture = (name: string): Record<string, unknown> =>
    JSON.parse(readFileSync(new URL(`../ingest/fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
  const okta = (name: string, at: number, extra: Record<string, unknown>): CanonicalEvent => {
    const r = decodeObject({ ...fixture(name), uuid: `okta-${name}-${at}`, published: new Date(T0 + at).toISOString(), ...extra }, undefined);
    if (!r.ok) throw new Error(r.reason);
    return r.event;
  };
  const signOn = (at: number) => okta('okta-session-start.json', at, {});
  const badPassword = (at: number) => okta('okta-session-start-failure.json', at, {});
  const ssoDenied = (at: number) =>
    okta('okta-session-start-failure.json', at, {
      eventType: 'user.authentication.sso',
      outcome: { result: 'FAILURE', reason: 'Sign-on policy evaluation resulted in DENY' },
      target: [{ id: '0oa1', type: 'AppInstance', alternateId: 'payroll', displayName: 'Payroll' }],
    });

  it("an attacker's 5 bad passwords, then the user's own SSO to an app (an Okta session of theirs): no hit", () => {
    // The attack failed; the user, signed in since the morning, opens Slack: no credential presented.
    const sso = (at: number) => okta('okta-sso.json', at, {});
    const bad = [0, 1, 2, 3, 4].map((i) => badPassword(i * MIN));
    expect(run(bruteForce, params, [...bad, sso(5 * MIN)]).hits).toEqual([]);
    // SSOs between the guesses neither count nor complete anything; the attacker's own sign-in does.
    expect(run(bruteForce, params, [...bad.flatMap((b, i) => [b, sso(i * MIN + 30_000)]), signOn(5 * MIN)]).hits).toHaveLength(1);
  });

  it('5 SSO failures then a sign-in flag nothing; 5 bad passwords then a sign-in do', () => {
    const user = (e: CanonicalEvent) => ({ ...e, user: 'alice.ng@example.com' });
    expect(run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => user(ssoDenied(i * MIN))), user(signOn(5 * MIN))]).hits).toEqual([]);
    expect(run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => user(badPassword(i * MIN))), user(signOn(5 * MIN))]).hits).toHaveLength(1);
    // 4 bad passwords and SSO failures between them: still one short.
    const mixed = [0, 1, 2, 3].flatMap((i) => [user(badPassword(i * MIN)), user(ssoDenied(i * MIN + 30_000))]);
    expect(run(bruteForce, params, [...mixed, user(signOn(5 * MIN))]).hits).toEqual([]);
  });
});

describe('brute_force on Entra sign-ins: only a password that passed completes an attack', () => {
  const record = JSON.parse(readFileSync(new URL('../ingest/fixtures/entra-signin-bad-password.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const entra = (errorCode: number, at: number): CanonicalEvent => {
    const r = decodeObject(
      { ...record, id: `entra-${errorCode}-${at}`, createdDateTime: new Date(T0 + at).toISOString(), status: { errorCode, failureReason: 'x' } },
      undefined,
    );
    if (!r.ok) throw new Error(r.reason);
    return r.event;
  };
  const guesses = [0, 1, 2, 3, 4].map((i) => entra(50126, i * MIN));

  it.each([
    // No password presented (Seamless SSO's Kerberos ticket, an expired or revoked token): no success, no guess.
    [81010, 0],
    [81012, 0],
    [50058, 0],
    [700082, 0],
    // The password passed (interrupted, blocked by policy): the attack's success.
    [50074, 1],
    [53003, 1],
    [50144, 1],
    [50129, 1],
  ])('5 bad passwords (50126), then %s: %s hit', (code, hits) => {
    expect(run(bruteForce, params, [...guesses, entra(code, 5 * MIN)]).hits).toHaveLength(hits);
  });

  it.each([0, 50074, 50076, 53003])("5 bad passwords, then the user's own non-interactive sign-in (a token refresh) %s: no hit, no password passed", (code) => {
    const nonInteractive = decodeObject(
      {
        ...JSON.parse(readFileSync(new URL('../ingest/fixtures/entra-signin-noninteractive.json', import.meta.url), 'utf8')),
        userPrincipalName: record.userPrincipalName,
        createdDateTime: new Date(T0 + 5 * MIN).toISOString(),
        status: { errorCode: code, failureReason: 'x' },
      },
      undefined,
    );
    if (!nonInteractive.ok) throw new Error(nonInteractive.reason);
    expect(run(bruteForce, params, [...guesses, nonInteractive.event]).hits).toEqual([]);
  });

  it.each([81006, 81010, 50058, 50173, 70043, 50105, 50155])('five %s, then a successful sign-in: no hit (they are no guesses)', (code) => {
    expect(run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => entra(code, i * MIN)), entra(0, 5 * MIN)]).hits).toEqual([]);
  });
});

describe('brute_force on CloudTrail console sign-ins', () => {
  const record = (name: string, at: number): CanonicalEvent => {
    const raw = JSON.parse(readFileSync(new URL(`../ingest/fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const r = decodeObject({ ...raw, eventID: `ct-${name}-${at}`, eventTime: new Date(T0 + at).toISOString() }, undefined);
    if (!r.ok) throw new Error(r.reason);
    return r.event;
  };
  const badPassword = (at: number) => record('cloudtrail-console-login-failure.json', at);
  const mfaFailed = (at: number) => record('cloudtrail-console-login-mfa-failure.json', at);
  const signIn = (at: number) => record('cloudtrail-console-login.json', at);

  it('5 wrong passwords, then one that passed but failed MFA: a hit, the password accepted', () => {
    const hits = run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => badPassword(i * MIN)), mfaFailed(5 * MIN)]).hits;
    expect(hits).toHaveLength(1);
    expect(hits[0]!.evidence).toMatchObject({ count: 5, success: { outcome: 'interrupted', password_accepted: true } });
  });

  it('5 mistyped MFA codes (the right password each time), then a sign-in: no hit, no guesses', () => {
    expect(run(bruteForce, params, [...[0, 1, 2, 3, 4].map((i) => mfaFailed(i * MIN)), signIn(5 * MIN)]).hits).toEqual([]);
  });
});
