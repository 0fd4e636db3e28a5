import { attachCaptured } from '../../src/detect/captured-session.js';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { loadConfig } from '../../src/config/load.js';
import { DETECTOR_KINDS, PREDEFINED_KINDS, detectorFor, isDetectorKind } from '../../src/detect/registry.js';
import { isRiskstreamError } from '../../src/errors.js';
import { IP_FAILURES, type IpFailure } from '../../src/detect/password-spray.js';
import type { CanonicalEvent } from '../../src/types.js';
import { T0, ev, login, run } from './fixtures.js';

const configDir = fileURLToPath(new URL('../../config/', import.meta.url));

describe('registry', () => {
  it('has a detector for every behavior kind', () => {
    expect([...DETECTOR_KINDS].sort()).toEqual([...PREDEFINED_KINDS, 'threshold'].sort());
    for (const kind of DETECTOR_KINDS) expect(detectorFor(kind).kind).toBe(kind);
    expect(isDetectorKind('nope')).toBe(false);
  });

  it('rejects an unknown kind with CONFIG_INVALID', () => {
    for (const kind of ['telepathy', '__proto__', 'toString']) {
      let caught: unknown;
      try {
        detectorFor(kind);
      } catch (err) {
        caught = err;
      }
      expect(isRiskstreamError(caught, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

/** A use of session s-1 from another device than its login captured (as the enrich stage attaches it). */
function hijackedUse(): CanonicalEvent {
  const e = ev('access', 60_000, { session: { id: 's-1' }, device: { id: 'd-77' } });
  attachCaptured(e, { session_id: 's-1', user: e.user, login_at: T0, device: 'd-9' });
  return e;
}

describe('shipped config/behaviors.yaml', () => {
  const cfg = loadConfig(configDir, {});
  const byId = Object.fromEntries(cfg.behaviors.map((b) => [b.id, b]));

  it('validates and ships every kind', () => {
    expect(new Set(cfg.behaviors.map((b) => b.kind))).toEqual(new Set(DETECTOR_KINDS));
    for (const id of ['impossible_travel', 'dlp_detection', 'endpoint_detection']) expect(byId[id]?.enabled).toBe(true);
    expect(byId.failed_logins).toMatchObject({
      kind: 'threshold',
      enabled: true,
      params: { count: 10, window: 300_000, match: { type: 'login', outcome: { in: ['failure', 'denied'] } } },
    });
  });

  it('every shipped behavior fires on a typical event sequence', () => {
    const samples: Record<string, CanonicalEvent[]> = {
      impossible_travel: [login('London', 0), login('Sydney', 2 * 3_600_000)],
      dlp_detection: [ev('dlp', 0, { severity: 'high', profile: 'ssn' })],
      high_dlp: Array.from({ length: 15 }, (_, i) => ev('dlp', i * 1_000, { severity: 'low' })),
      endpoint_detection: [ev('endpoint', 0, { vendor: 'sentinelone', confidenceLevel: 'malicious' })],
      device_posture_score: [ev('posture', 0, { score: 20 })],
      malicious_file: [ev('swg', 0, { file: { verdict: 'malicious' }, action: 'block' })],
      security_domain: [ev('dns', 0, { domain: 'x.test', categories: ['phishing'] })],
      high_risk_domain: [ev('dns', 0, { domain: 'y.test', categories: ['newly_seen_domain'] })],
      // issue 18: credential and session behaviors (the edge attaches the IP's failures to a success)
      password_spray: [
        {
          ...login('London', 20 * 60_000, { ip: '203.0.113.9' }),
          [IP_FAILURES]: Array.from({ length: 10 }, (_, i): IpFailure => [T0 + i * 60_000, `u${i}@example.com`, `f-${i}`]),
        } as CanonicalEvent,
      ],
      failed_logins: Array.from({ length: 10 }, (_, i) => login('London', i * 1_000, { outcome: 'failure' })),
      // Credential and session behaviors (issue 18).
      brute_force: [...Array.from({ length: 10 }, (_, i) => login('London', i * 1_000, { outcome: 'failure' })), login('London', 11_000)],
      mfa_fatigue: Array.from({ length: 5 }, (_, i) => ev('mfa', i * 1_000, { outcome: 'denied', factor: 'push' })),
      new_country: [login('London', 0), login('Paris', 8 * 24 * 3_600_000)],
      session_hijack: [hijackedUse()],
    };
    for (const b of cfg.behaviors) {
      const events = samples[b.id];
      expect(events, `a sample for ${b.id}`).toBeDefined();
      const r = run(detectorFor(b.kind), b.params, events!, { now: T0 + 9 * 24 * 3_600_000 });
      expect(r.hits.length, b.id).toBe(1);
    }
  });
});

describe('detectors own their parameter schemas (issue 15)', () => {
  it("a behavior entry is the common fields plus its detector's own params", () => {
    const common = ['enabled', 'risk_level', 'expires_after', 'description', 'kind'];
    for (const kind of DETECTOR_KINDS) {
      const own = Object.keys(detectorFor(kind).params.shape);
      expect(
        own.filter((k) => common.includes(k)),
        kind,
      ).toEqual([]);
      const entry = behaviorSchema(kind) as unknown as { shape: Record<string, unknown> };
      expect(Object.keys(entry.shape).sort(), kind).toEqual([...common, ...own].sort());
    }
  });

  it("validates params with the detector's schema (defaults, errors)", () => {
    expect(behaviorSchema('dlp_detection').parse({ risk_level: 'low' })).toMatchObject({ min_severity: 'high', count: 1, window: 60_000 });
    expect(behaviorSchema('impossible_travel').safeParse({ risk_level: 'high', allow_networks: ['nope'] }).success).toBe(false);
    expect(behaviorSchema('threshold').safeParse({ risk_level: 'high', match: {}, count: 1, window: '1m' }).success).toBe(false); // kind required
  });
});
