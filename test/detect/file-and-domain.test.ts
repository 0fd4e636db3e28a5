import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { highRiskDomain, securityDomain } from '../../src/detect/domain-category.js';
import { maliciousFile } from '../../src/detect/malicious-file.js';
import { ev, run } from './fixtures.js';

const domainCategoryParams = behaviorSchema('security_domain');
const maliciousFileParams = behaviorSchema('malicious_file');

describe('malicious_file', () => {
  const p = maliciousFileParams.parse({ enabled: true, risk_level: 'high' });
  it.each([
    {
      name: 'swg download, blocked',
      e: ev('swg', 0, { file: { name: 'invoice.exe', verdict: 'Malicious', sha256: 'ab' }, domain: 'evil.test', action: 'block' }),
      fires: true,
    },
    { name: 'http, verdict at top level', e: ev('http', 0, { verdict: 'malicious', url: 'https://x.test/a.zip' }), fires: true },
    { name: 'file activity', e: ev('file', 0, { file: { path: '/tmp/a', verdict: 'malicious' } }), fires: true },
    { name: 'clean verdict', e: ev('swg', 0, { file: { verdict: 'clean' } }), fires: false },
    { name: 'suspicious not configured', e: ev('swg', 0, { file: { verdict: 'suspicious' } }), fires: false },
    { name: 'other type', e: ev('dns', 0, { verdict: 'malicious' }), fires: false },
  ])('$name', ({ e, fires }) => {
    expect(run(maliciousFile, p, [e]).hits).toHaveLength(fires ? 1 : 0);
  });

  it('evidence and summary say it was blocked', () => {
    const r = run(maliciousFile, p, [
      ev('swg', 0, { file: { name: 'invoice.exe', verdict: 'malicious', sha256: 'ab' }, domain: 'evil.test', action: 'block' }),
    ]);
    expect(r.hits[0]).toMatchObject({
      summary: 'malicious file invoice.exe from evil.test (blocked)',
      evidence: { verdict: 'malicious', file: 'invoice.exe', sha256: 'ab', domain: 'evil.test', action: 'block' },
    });
  });

  it('custom verdicts', () => {
    const p2 = maliciousFileParams.parse({ enabled: true, risk_level: 'medium', verdicts: ['malicious', 'Suspicious'] });
    expect(run(maliciousFile, p2, [ev('swg', 0, { file: { verdict: 'suspicious' } })]).hits).toHaveLength(1);
  });
});

describe('security_domain / high_risk_domain', () => {
  const sec = domainCategoryParams.parse({ enabled: true, risk_level: 'high', categories: ['malware', 'phishing', 'command_and_control', 'cryptomining'] });
  const risky = domainCategoryParams.parse({ enabled: true, risk_level: 'medium', categories: ['new_domain', 'newly_seen_domain', 'parked_domain', 'dga'] });

  it('counts a visit even when blocked', () => {
    const r = run(securityDomain, sec, [ev('dns', 0, { domain: 'Login-Micros0ft.test', categories: ['Phishing', 'Business'], action: 'block' })]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({
      summary: 'Security-risk domain login-micros0ft.test (phishing), blocked',
      evidence: { domain: 'login-micros0ft.test', categories: ['phishing'], action: 'block' },
    });
  });

  it.each([
    { name: 'category string, spaces normalised', e: ev('swg', 0, { domain: 'a.test', category: 'Command and Control' }), sec: 1, risky: 0 },
    { name: 'high-risk category', e: ev('http', 0, { domain: 'b.test', categories: ['Newly Seen Domain'] }), sec: 0, risky: 1 },
    { name: 'both lists', e: ev('dns', 0, { domain: 'c.test', categories: ['malware', 'dga'] }), sec: 1, risky: 1 },
    { name: 'no intersection', e: ev('dns', 0, { domain: 'd.test', categories: ['news'] }), sec: 0, risky: 0 },
    { name: 'no domain', e: ev('dns', 0, { categories: ['malware'] }), sec: 0, risky: 0 },
    { name: 'no categories', e: ev('dns', 0, { domain: 'e.test' }), sec: 0, risky: 0 },
  ])('$name', ({ e, sec: s, risky: r }) => {
    expect(run(securityDomain, sec, [e]).hits).toHaveLength(s);
    expect(run(highRiskDomain, risky, [e]).hits).toHaveLength(r);
  });

  it('the two kinds are distinct detectors', () => {
    expect(securityDomain.kind).toBe('security_domain');
    expect(highRiskDomain.kind).toBe('high_risk_domain');
  });
});
