import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { mfaFatigue } from '../../src/detect/mfa-fatigue.js';
import { threshold } from '../../src/detect/threshold.js';
import { decodeObject } from '../../src/ingest/decode.js';
import type { CanonicalEvent } from '../../src/types.js';
import { MIN, T0, run } from './fixtures.js';

/**
 * mfa_fatigue fed with the vendor records an MFA bombing leaves (decoded by the real profiles):
 * each push is several records — sent, then answered; Entra's interrupt before the failure —
 * and must count once.
 */
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../ingest/fixtures/${name}`, import.meta.url), 'utf8'));
const decode = (o: unknown): CanonicalEvent => {
  const r = decodeObject(o, undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};
const iso = (at: number) => new Date(T0 + at).toISOString();
const params = behaviorSchema('mfa_fatigue').parse({ risk_level: 'high', count: 5, window: '10m' });

const oktaSent = (i: number, at: number) =>
  decode({ ...fixture('okta-push-timeout.json'), uuid: `sent-${i}`, published: iso(at), outcome: { result: 'SUCCESS', reason: null } });
const oktaOie = (i: number, at: number) => decode({ ...fixture('okta-mfa-push-denied.json'), uuid: `deny-${i}`, published: iso(at + 20_000) });
const oktaClassic = (i: number, at: number) => decode({ ...fixture('okta-deny-push-classic.json'), uuid: `deny-${i}`, published: iso(at + 20_000) });
const entraInterrupt = (i: number, at: number) => decode({ ...fixture('entra-signin-mfa-required.json'), id: `req-${i}`, createdDateTime: iso(at) });
const entraDenied = (i: number, at: number, additionalDetails = 'MFA denied; user declined the authentication') => {
  const raw = fixture('entra-mfa-denied.json');
  return decode({ ...raw, id: `deny-${i}`, createdDateTime: iso(at + 20_000), status: { ...(raw.status as object), additionalDetails } });
};

/** Five pushes a minute apart, each as the records `push` makes of it. */
const five = (push: (i: number, at: number) => CanonicalEvent[]) => [0, 1, 2, 3, 4].flatMap((i) => push(i, i * MIN));

describe('mfa_fatigue on real vendor records: each push counts once', () => {
  it.each<[string, (i: number, at: number) => CanonicalEvent[]]>([
    ['Okta Identity Engine (push sent, auth_via_mfa FAILURE)', (i, at) => [oktaSent(i, at), oktaOie(i, at)]],
    ['Okta Classic (push sent, user.mfa.okta_verify.deny_push)', (i, at) => [oktaSent(i, at), oktaClassic(i, at)]],
    ['Entra (50074 MFA required, then 500121 declined)', (i, at) => [entraInterrupt(i, at), entraDenied(i, at)]],
    // A shipper sending everything twice (a retry after a crash): the same ids, no new push.
    ['Okta Identity Engine, every record delivered twice', (i, at) => [oktaSent(i, at), oktaOie(i, at), oktaSent(i, at), oktaOie(i, at)]],
    ['Okta Classic, every record delivered twice', (i, at) => [oktaSent(i, at), oktaClassic(i, at), oktaClassic(i, at)]],
  ])('%s: five refused pushes → one hit of five, on the fifth answer', (_name, push) => {
    const events = five(push);
    const r = run(mfaFatigue, params, events);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({ time: T0 + 4 * MIN + 20_000, evidence: { count: 5, denied: 5, timeout: 0, approved: false } });
    expect(r.hits[0]!.eventIds).toEqual(['deny-0', 'deny-1', 'deny-2', 'deny-3', 'deny-4']);
    // Four pushes are not five, however many records they made.
    expect(
      run(
        mfaFatigue,
        params,
        events.filter((e) => e.id !== 'deny-4'),
      ).hits,
    ).toEqual([]);
  });

  it('Entra: a duplicate authentication attempt is no new push (it does not complete the burst)', () => {
    const four = [0, 1, 2, 3].flatMap((i) => [entraInterrupt(i, i * MIN), entraDenied(i, i * MIN)]);
    const dup = entraDenied(9, 3.5 * MIN, 'MFA denied; duplicate authentication attempt');
    expect(run(mfaFatigue, params, [...four, dup]).hits).toEqual([]);
    const fifth = entraDenied(4, 4 * MIN);
    const r = run(mfaFatigue, params, [...four, dup, fifth]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.eventIds).not.toContain('deny-9');
  });

  it('Entra: a push reported as fraud counts as refused and says so', () => {
    const events = five((i, at) => [entraDenied(i, at, i === 2 ? 'MFA denied; Phone App Reported Fraud' : undefined)]);
    expect(events[2]).toMatchObject({ type: 'mfa', outcome: 'denied', reason: 'fraud_reported' });
    const { hits } = run(mfaFatigue, params, events);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ evidence: { count: 5, denied: 5, timeout: 0, fraud_reported: 1 } });
    expect(hits[0]!.summary).toBe('5 MFA pushes refused in 4m (5 denied, 1 of them reported as fraud; threshold 5 in 10m)');
    // Without a fraud report the evidence names none.
    expect(
      run(
        mfaFatigue,
        params,
        five((i, at) => [entraDenied(i, at)]),
      ).hits[0]!.evidence,
    ).not.toHaveProperty('fraud_reported');
  });

  it('Okta: pushes Okta failed to send reached nobody, so they refuse nothing', () => {
    const failed = [0, 1, 2, 3, 4].map((i) =>
      decode({
        ...fixture('okta-push-timeout.json'),
        uuid: `send-${i}`,
        published: iso(i * MIN),
        outcome: { result: 'FAILURE', reason: 'Push notification could not be delivered' },
      }),
    );
    expect(run(mfaFatigue, params, failed).hits).toEqual([]);
  });

  it('Okta Classic: five denies then an approval → the burst, then the approval flagged', () => {
    const approval = decode({
      ...fixture('okta-mfa-push-denied.json'),
      uuid: 'approve-5',
      published: iso(5 * MIN),
      outcome: { result: 'SUCCESS', reason: null },
      debugContext: { debugData: { factor: 'OKTA_VERIFY_PUSH', pushOnlyResponseType: 'OV_RESPONSE_APPROVE' } },
    });
    const r = run(mfaFatigue, params, [...five((i, at) => [oktaSent(i, at), oktaClassic(i, at)]), approval]);
    expect(r.hits.map((h) => h.evidence.approved)).toEqual([false, true]);
    expect(r.hits[1]).toMatchObject({ evidence: { count: 5, approval_id: 'approve-5' } });
  });

  it("config/behaviors.yaml's commented thresholds match the decoded records they are written for", () => {
    const parse = (match: Record<string, unknown>, count: number) =>
      behaviorSchema('threshold').parse({ kind: 'threshold', enabled: true, risk_level: 'high', match, count, window: '10m' });
    // A single push reported as fraud.
    const fraud = entraDenied(0, 0, 'MFA denied; Phone App Reported Fraud');
    expect(run(threshold, parse({ type: 'mfa', reason: 'fraud_reported' }, 1), [entraDenied(1, MIN), fraud]).hits).toHaveLength(1);
    // Okta pushes sent and never answered: mfa_fatigue sees none, a count of pushes sent does.
    const ignored = [0, 1, 2, 3, 4].map((i) => oktaSent(i, i * MIN));
    expect(run(mfaFatigue, params, ignored).hits).toEqual([]);
    expect(run(threshold, parse({ type: 'mfa', outcome: 'sent', factor: 'push' }, 5), ignored).hits).toHaveLength(1);
  });
});
