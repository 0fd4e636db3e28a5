import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { endpointDetection, vendorKey } from '../../src/detect/endpoint-detection.js';
import { T0, ev, run } from './fixtures.js';
import { sha256Hex } from '../../src/secrets/secret-values.js';

const endpointDetectionParams = behaviorSchema('endpoint_detection');

const params = (p: Record<string, unknown> = {}) => endpointDetectionParams.parse({ enabled: true, risk_level: 'high', ...p });

const shapes = {
  canonical: ev('endpoint', 0, { device: { id: 'd-9' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }),
  crowdstrikeRaw: ev('edr', 0, { DetectName: 'Credential Dumping', Severity: 4, SeverityName: 'High', ComputerName: 'laptop-7', SensorId: 'abc' }),
  crowdstrikeNumeric: ev('endpoint', 0, { vendor: 'CrowdStrike Falcon', severity: 5, detection: 'ransomware' }),
  crowdstrikeMedium: ev('endpoint', 0, { Severity: 3, DetectName: 'Adware' }),
  s1Malicious: ev('xdr', 0, {
    vendor: 'SentinelOne',
    threatInfo: { confidenceLevel: 'malicious', threatName: 'Emotet' },
    agentRealtimeInfo: { agentComputerName: 'mbp-1', agentId: 'a1' },
  }),
  s1Suspicious: ev('endpoint', 0, { confidenceLevel: 'suspicious', threatName: 'odd.ps1' }),
  s1Canonical: ev('endpoint', 0, { vendor: 'sentinelone', severity: 'malicious', detection: 'Emotet' }),
  s1CanonicalSuspicious: ev('endpoint', 0, { vendor: 'SentinelOne', severity: 'Suspicious' }),
  otherMalicious: ev('endpoint', 0, { vendor: 'acme', severity: 'malicious' }),
  defenderHigh: ev('endpoint', 0, { vendor: 'Microsoft Defender for Endpoint', severity: 'High', title: 'Suspicious PowerShell', deviceId: 'm-1' }),
  defenderInfo: ev('endpoint', 0, { vendor: 'defender', severity: 'Informational', title: 'Test alert' }),
  genericScore: ev('endpoint', 0, { vendor: 'acme', severity: 9.1, detection: 'exploit' }),
  noSeverity: ev('endpoint', 0, { vendor: 'acme', detection: 'something' }),
  postureOnly: ev('endpoint', 0, { vendor: 'crowdstrike', score: 20 }),
  notEndpoint: ev('dlp', 0, { severity: 'critical' }),
  // Names of Object's members as severity: unrecognised, so the confidence level decides.
  s1ProtoSeverity: ev('endpoint', 0, { vendor: 'sentinelone', severity: '__proto__', confidenceLevel: 'malicious' }),
  s1ConstructorSeverity: ev('endpoint', 0, { vendor: 'sentinelone', severity: 'constructor', confidenceLevel: 'malicious' }),
  constructorOnly: ev('endpoint', 0, { vendor: 'sentinelone', severity: 'constructor', confidenceLevel: 'constructor' }),
};

describe('endpoint_detection', () => {
  it.each([
    { shape: 'canonical', min: 'high', hit: { vendor: 'crowdstrike', severity: 'critical', detection: 'malware', device_id: 'd-9' } },
    {
      shape: 'crowdstrikeRaw',
      min: 'high',
      hit: { vendor: 'crowdstrike', severity: 'high', detection: 'Credential Dumping', device_id: 'abc', device_name: 'laptop-7' },
    },
    { shape: 'crowdstrikeNumeric', min: 'high', hit: { vendor: 'crowdstrike', severity: 'critical', raw_severity: 5 } },
    { shape: 'crowdstrikeMedium', min: 'high', hit: undefined },
    { shape: 'crowdstrikeMedium', min: 'medium', hit: { vendor: 'crowdstrike', severity: 'medium' } },
    { shape: 's1Malicious', min: 'high', hit: { vendor: 'sentinelone', severity: 'high', detection: 'Emotet', device_id: 'a1', device_name: 'mbp-1' } },
    { shape: 's1Suspicious', min: 'high', hit: undefined },
    { shape: 's1Suspicious', min: 'medium', hit: { vendor: 'sentinelone', severity: 'medium', raw_severity: 'suspicious' } },
    { shape: 's1Canonical', min: 'high', hit: { vendor: 'sentinelone', severity: 'high', raw_severity: 'malicious', detection: 'Emotet' } },
    { shape: 's1CanonicalSuspicious', min: 'medium', hit: { vendor: 'sentinelone', severity: 'medium' } },
    { shape: 'otherMalicious', min: 'info', hit: undefined },
    { shape: 'defenderHigh', min: 'high', hit: { vendor: 'defender', severity: 'high', detection: 'Suspicious PowerShell', device_id: 'm-1' } },
    { shape: 'defenderInfo', min: 'high', hit: undefined },
    { shape: 'defenderInfo', min: 'info', hit: { vendor: 'defender', severity: 'info' } },
    { shape: 'genericScore', min: 'high', hit: { vendor: 'acme', severity: 'critical' } },
    { shape: 'noSeverity', min: 'info', hit: undefined },
    { shape: 'postureOnly', min: 'info', hit: undefined },
    { shape: 'notEndpoint', min: 'info', hit: undefined },
    { shape: 's1ProtoSeverity', min: 'high', hit: { vendor: 'sentinelone', severity: 'high', raw_severity: 'malicious' } },
    { shape: 's1ConstructorSeverity', min: 'high', hit: { vendor: 'sentinelone', severity: 'high', raw_severity: 'malicious' } },
    { shape: 'constructorOnly', min: 'info', hit: undefined },
  ] as const)('$shape at min $min', ({ shape, min, hit }) => {
    const r = run(endpointDetection, params({ min_severity: min }), [shapes[shape]]);
    if (!hit) return expect(r.hits).toEqual([]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject(hit);
    expect(r.hits[0]!.time).toBe(T0);
    expect(r.hits[0]!.eventIds).toEqual([shapes[shape].id]);
    expect(r.window).toBeUndefined();
  });

  it('summarises vendor, detection, severity and device', () => {
    expect(run(endpointDetection, params(), [shapes.canonical]).hits[0]!.summary).toBe('crowdstrike: malware (critical) on d-9');
  });

  it('a token in vendor is fingerprinted as sent, not lower-cased into something the scrubber no longer knows', () => {
    const token = 'Zq8xY2vB7nK4mR9tW3pL6sD1fG5hJ0aQ';
    const r = run(endpointDetection, params(), [ev('endpoint', 0, { vendor: token, severity: 'critical', detection: 'x' })]);
    const shown = JSON.stringify(r.hits);
    expect(shown).not.toContain(token.toLowerCase());
    expect(shown).not.toContain(token);
    expect(r.hits[0]!.evidence.vendor).toBe(`[redacted token sha256:${sha256Hex(token)}]`);
    // Words beside the token still name the vendor (its severity scale and the vendors filter apply).
    const cs = run(endpointDetection, params(), [ev('endpoint', 0, { vendor: `CrowdStrike ${token}`, severity: 5, detection: 'x' })]);
    expect(cs.hits[0]!.evidence).toMatchObject({ vendor: 'crowdstrike', severity: 'critical' });
  });

  it('vendors filter', () => {
    const p = params({ vendors: ['CrowdStrike'] });
    expect(run(endpointDetection, p, [shapes.canonical]).hits).toHaveLength(1);
    expect(run(endpointDetection, p, [shapes.s1Malicious, shapes.defenderHigh]).hits).toHaveLength(0);
  });

  it.each([
    ['SentinelOne', 'sentinelone'],
    ['sentinel_one', 'sentinelone'],
    ['CrowdStrike Falcon', 'crowdstrike'],
    ['Microsoft Defender for Endpoint', 'defender'],
    ['Acme-EDR', 'acmeedr'],
  ])('vendorKey(%s) = %s', (name, key) => expect(vendorKey(name)).toBe(key));
});
