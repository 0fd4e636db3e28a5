import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { devicePostureScore } from '../../src/detect/device-posture-score.js';
import { ev, run } from './fixtures.js';

const devicePostureScoreParams = behaviorSchema('device_posture_score');

const params = (p: Record<string, unknown> = {}) => devicePostureScoreParams.parse({ enabled: true, risk_level: 'medium', ...p });

describe('device_posture_score', () => {
  it.each([
    { score: 0, level: 'high' },
    { score: 30, level: 'high' },
    { score: 50, level: 'high' },
    { score: 50.5, level: 'medium' },
    { score: 51, level: 'medium' },
    { score: 79, level: 'medium' },
    { score: 80, level: undefined },
    { score: 100, level: undefined },
    { score: '45', level: 'high' },
    { score: 'n/a', level: undefined },
    { score: undefined, level: undefined },
  ])('score $score → $level', ({ score, level }) => {
    const r = run(devicePostureScore, params(), [ev('posture', 0, { score, device: { id: 'd-1' }, vendor: 'crowdstrike' })]);
    if (!level) return expect(r.hits).toEqual([]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.level).toBe(level);
    expect(r.hits[0]!.evidence).toMatchObject({ score: Number(score), device_id: 'd-1', field: 'score' });
  });

  it('reads a dotted score_field on endpoint events', () => {
    const p = params({ score_field: 'device.posture.zta.overall' });
    const e = ev('endpoint', 0, { device: { id: 'd-2', posture: { zta: { overall: 62 } } } });
    const r = run(devicePostureScore, p, [e]);
    expect(r.hits[0]).toMatchObject({ level: 'medium', summary: 'Device posture score 62 (band 50-79) on d-2' });
  });

  it('custom bands: the first containing band wins', () => {
    const p = params({
      bands: [
        { min: 0, max: 20, level: 'high' },
        { min: 0, max: 60, level: 'low' },
      ],
    });
    expect(run(devicePostureScore, p, [ev('posture', 0, { score: 10 })]).hits[0]!.level).toBe('high');
    expect(run(devicePostureScore, p, [ev('posture', 0, { score: 40 })]).hits[0]!.level).toBe('low');
  });

  it("a band without its own level gives no level: the reducer takes the behavior's risk_level", () => {
    const p = params({ bands: [{ min: 0, max: 50 }] });
    const hit = run(devicePostureScore, p, [ev('posture', 0, { score: 10 })]).hits[0]!;
    expect(hit.level).toBeUndefined();
    expect(hit.evidence).toMatchObject({ band: { min: 0, max: 50 } });
  });

  it('a band whose min is above its max is refused', () => {
    const r = devicePostureScoreParams.safeParse({ enabled: true, risk_level: 'medium', bands: [{ min: 60, max: 40, level: 'high' }] });
    expect(r.success).toBe(false);
    expect(!r.success && r.error.issues[0]!.message).toBe('min must not be above max');
  });

  it('ignores other event types', () => {
    expect(run(devicePostureScore, params(), [ev('login', 0, { score: 10 })]).hits).toEqual([]);
  });

  it('a score_field in the device is read on the posture a login or refresh carries (found by a black-box review), not on other types', () => {
    const p = params({ score_field: 'device.posture.zta.overall' });
    const device = { id: 'd-3', posture: { zta: { overall: 20 } } };
    for (const type of ['login', 'session_refresh', 'posture', 'endpoint']) {
      expect(
        run(devicePostureScore, p, [ev(type, 0, { device })]).hits.map((h) => h.level),
        type,
      ).toEqual(['high']);
    }
    for (const type of ['access', 'dlp', 'http']) expect(run(devicePostureScore, p, [ev(type, 0, { device })]).hits, type).toEqual([]);
    // A failed login's device is the attacker's: it never raises the user it tried.
    expect(run(devicePostureScore, p, [ev('login', 0, { device, outcome: 'failure' })]).hits).toEqual([]);
  });
});
