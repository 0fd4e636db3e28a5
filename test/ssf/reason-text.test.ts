import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRiskstreamError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { levelChangeReasons, revokedReasons } from '../../src/ssf/reason-text.js';
import { buildLevelChangeSet, buildSessionRevokedSet, CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED } from '../../src/ssf/set-builder.js';
import { change, testReceiver } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-reasons-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const RAISED = { previous: 'low', current: 'high', behaviors: ['impossible_travel', 'vpn_rule'], reason: 'London → Sydney: 17 012 km in 2.0 h' } as const;

describe('reason texts in several languages', () => {
  it.each([
    ['none configured: the English admin reason only', undefined, { reason_admin: { en: RAISED.reason } }],
    [
      'English asked for: English admin and end-user texts',
      ['en'],
      { reason_admin: { en: RAISED.reason }, reason_user: { en: 'Unusual activity was detected on your account.' } },
    ],
    [
      'German and French: behaviors by name (unknown ids as they are) and the level change',
      ['de', 'fr'],
      {
        reason_admin: {
          en: RAISED.reason,
          de: 'Risikostufe NIEDRIG → HOCH: Unmögliche Reise, vpn_rule',
          fr: 'Niveau de risque FAIBLE → ÉLEVÉ : Voyage impossible, vpn_rule',
        },
        reason_user: {
          en: 'Unusual activity was detected on your account.',
          de: 'Auf Ihrem Konto wurde ungewöhnliche Aktivität festgestellt.',
          fr: 'Une activité inhabituelle a été détectée sur votre compte.',
        },
      },
    ],
  ])('%s', (_, languages, expected) => {
    expect(levelChangeReasons(RAISED, languages)).toEqual(expected);
  });

  it('a fall to LOW with no behavior left says so, and tells the user the level was lowered', () => {
    const r = levelChangeReasons({ previous: 'high', current: 'low', behaviors: [], reason: 'expired: impossible_travel' }, ['es']);
    expect(r.reason_admin).toEqual({ en: 'expired: impossible_travel', es: 'Nivel de riesgo ALTO → BAJO: ningún comportamiento de riesgo activo' });
    expect(r.reason_user).toEqual({ en: 'The risk level of your account was lowered.', es: 'Se redujo el nivel de riesgo de su cuenta.' });
  });

  it('a revocation keeps the admin’s words in every language', () => {
    expect(revokedReasons('lost laptop', ['nl'])).toEqual({
      reason_admin: { en: 'lost laptop', nl: 'Sessie ingetrokken door een beheerder: lost laptop' },
      reason_user: { en: 'Your session was ended by an administrator.', nl: 'Uw sessie is door een beheerder beëindigd.' },
    });
  });

  it('a revocation by a responses: rule is said to be a security policy’s, in every language (not an administrator’s)', () => {
    expect(revokedReasons('policy: level high (x)', ['de'], 'policy')).toEqual({
      reason_admin: { en: 'policy: level high (x)', de: 'Sitzung durch eine Sicherheitsrichtlinie beendet: policy: level high (x)' },
      reason_user: { en: 'Your session was ended by a security policy.', de: 'Ihre Sitzung wurde durch eine Sicherheitsrichtlinie beendet.' },
    });
    const all = revokedReasons('r', ['de', 'fr', 'es', 'it', 'pt', 'nl', 'ja'], 'policy');
    const admin = revokedReasons('r', ['de', 'fr', 'es', 'it', 'pt', 'nl', 'ja'], 'admin');
    for (const l of ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'ja']) {
      expect(all.reason_user![l]).toBeTruthy();
      expect(all.reason_user![l]).not.toBe(admin.reason_user![l]);
      if (l !== 'en') expect(all.reason_admin[l]).not.toBe(admin.reason_admin[l]);
    }
  });

  it('SETs carry them for a receiver with reason_languages', () => {
    const rx = testReceiver('acme', 'https://acme.example.net/ssf', { reason_languages: ['ja'] });
    const env = { issuer: 'https://rs.example', receiver: rx, key: { alg: 'ES256' as const, kid: 'k' }, now: 1_795_420_805_999, jti: 'j' };
    const set = buildLevelChangeSet({ ...env, change: change('alice@example.com', 1, 'low', 'medium', { behaviors: ['dlp_detection'], reason: 'DLP match' }) });
    expect(set.claims.events[CAEP_RISK_LEVEL_CHANGE]).toMatchObject({
      reason_admin: { en: 'DLP match', ja: 'リスクレベル 低 → 中: DLP 検出' },
      reason_user: { en: 'Unusual activity was detected on your account.', ja: 'お客様のアカウントで通常と異なるアクティビティが検出されました。' },
    });
    const revoked = buildSessionRevokedSet({
      ...env,
      revoked: { id: 'r1', user: 'alice@example.com', sessionId: 's1', reason: 'stolen', initiatingEntity: 'admin', time: 1_795_420_800_000 },
    });
    expect(revoked.claims.events[CAEP_SESSION_REVOKED]).toMatchObject({
      reason_admin: { en: 'stolen', ja: '管理者によりセッションが取り消されました: stolen' },
    });
  });

  it('config accepts the catalogue’s languages and names an unknown one', () => {
    const ok = configDir({
      'riskstream.yaml':
        'receivers:\n  - name: a\n    kind: ssf\n    endpoint: https://a.example/push\n    audience: https://a.example\n    reason_languages: [de, ja]\n',
    });
    expect(loadConfig(ok).receivers[0]!.reason_languages).toEqual(['de', 'ja']);
    const bad = configDir({
      'riskstream.yaml':
        'receivers:\n  - name: a\n    kind: ssf\n    endpoint: https://a.example/push\n    audience: https://a.example\n    reason_languages: [de, klingon]\n',
    });
    try {
      loadConfig(bad);
      expect.unreachable('an unknown language must be refused');
    } catch (err) {
      expect(isRiskstreamError(err, 'CONFIG_INVALID')).toBe(true);
      expect(JSON.stringify((err as { details?: unknown }).details)).toMatch(/reason_languages: one of en, de, fr/);
    }
  });
});
