import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { dlpDetection } from '../../src/detect/dlp-detection.js';
import { highDlp } from '../../src/detect/high-dlp.js';
import type { CanonicalEvent } from '../../src/types.js';
import { MIN, T0, ev, run } from './fixtures.js';

const dlpDetectionParams = behaviorSchema('dlp_detection');
const highDlpParams = behaviorSchema('high_dlp');

const dlp = (at: number, severity: unknown, extra: Record<string, unknown> = {}) =>
  ev('dlp', at, { profile: 'credit-cards', severity, action: 'block', app: 'drive', ...extra });

describe('dlp_detection', () => {
  const p = dlpDetectionParams.parse({ enabled: true, risk_level: 'medium' }); // min high, count 1
  it.each([
    { severity: 'medium', fires: false },
    { severity: 'high', fires: true },
    { severity: 'critical', fires: true },
    { severity: 'HIGH', fires: true },
    { severity: 'Severe', fires: true },
    { severity: 'moderate', fires: false },
    { severity: 'informational', fires: false },
    { severity: 8.5, fires: true },
    { severity: '3', fires: false },
    { severity: undefined, fires: false },
    { severity: 'banana', fires: false },
  ])('severity $severity with min high → $fires', ({ severity, fires }) => {
    expect(run(dlpDetection, p, [dlp(0, severity)]).hits).toHaveLength(fires ? 1 : 0);
  });

  it('every match fires with count 1, blocked or not, with its facts', () => {
    const r = run(dlpDetection, p, [dlp(0, 'high'), dlp(1_000, 'high', { action: 'allow' })]);
    expect(r.hits).toHaveLength(2);
    expect(r.window).toBeUndefined();
    expect(r.hits[0]).toMatchObject({
      time: T0,
      summary: 'DLP match "credit-cards" (high) in drive, blocked',
      evidence: { profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' },
    });
  });

  it.each(['banana', 'constructor', '__proto__'])('an unrecognised severity (%s) ranks as info: it fires at min_severity info', (severity) => {
    const info = dlpDetectionParams.parse({ enabled: true, risk_level: 'low', min_severity: 'info' });
    const r = run(dlpDetection, info, [dlp(0, severity)]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ severity: 'info' });
  });

  it('min_severity is honoured exactly at the boundary', () => {
    const low = dlpDetectionParams.parse({ enabled: true, risk_level: 'low', min_severity: 'medium' });
    expect(run(dlpDetection, low, [dlp(0, 'low')]).hits).toHaveLength(0);
    expect(run(dlpDetection, low, [dlp(0, 'medium')]).hits).toHaveLength(1);
  });

  it.each([
    ['severe', 'high'],
    ['Moderate', 'medium'],
    ['very high', 'critical'],
    ['7', 'high'],
    [7, 'high'],
  ])('min_severity takes what events may say: %s is %s', (alias, want) => {
    expect(dlpDetectionParams.parse({ enabled: true, risk_level: 'low', min_severity: alias }).min_severity).toBe(want);
  });

  it('min_severity refuses what is no severity', () => {
    const r = dlpDetectionParams.safeParse({ enabled: true, risk_level: 'low', min_severity: 'spicy' });
    expect(!r.success && r.error.issues[0]!.message).toBe('must be one of info, low, medium, high, critical');
  });

  it('count within window: fires when the count is reached', () => {
    const p3 = dlpDetectionParams.parse({ enabled: true, risk_level: 'medium', count: 3, window: '1m' });
    const r = run(dlpDetection, p3, [dlp(0, 'high'), dlp(10_000, 'low'), dlp(20_000, 'high'), dlp(30_000, 'critical')]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 1]);
    expect(r.hits[0]!.evidence).toMatchObject({ count: 3, window: '1m' });
    expect(r.hits[0]!.eventIds).toHaveLength(3);
  });

  it('ignores other event types', () => {
    expect(dlpDetection.accepts(ev('endpoint', 0, { severity: 'critical' }), p)).toBe(false);
  });
});

describe('high_dlp', () => {
  const p = highDlpParams.parse({ enabled: true, risk_level: 'high' }); // 15 in 1m, any severity
  const burst = (n: number, step: number, from = 0): CanonicalEvent[] => Array.from({ length: n }, (_, i) => dlp(from + i * step, 'low'));

  it('14 matches in a minute: nothing', () => {
    expect(run(highDlp, p, burst(14, 4_000)).hits).toHaveLength(0);
  });

  it('15 matches in a minute: one hit, at the 15th', () => {
    const events = burst(15, 4_000);
    const r = run(highDlp, p, events);
    expect(r.perEvent.map((h) => h.length)).toEqual([...Array(14).fill(0), 1]);
    expect(r.hits[0]).toMatchObject({
      time: T0 + 56_000,
      summary: '15 DLP matches in 1m (threshold 15)',
      evidence: { count: 15, threshold: 15, window: '1m' },
    });
    expect(r.hits[0]!.eventIds).toEqual(events.map((e) => e.id));
  });

  it('a 16th in the same minute does not fire again', () => {
    expect(run(highDlp, p, burst(16, 3_000)).hits).toHaveLength(1);
  });

  it('15 matches spread over two minutes: nothing', () => {
    expect(run(highDlp, p, burst(15, 9_000)).hits).toHaveLength(0);
  });

  it('out-of-order arrival within the allowed lateness still counts', () => {
    const events = burst(15, 4_000);
    const shuffled = [...events.slice(5), ...events.slice(0, 5).reverse()];
    const r = run(highDlp, p, shuffled);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ count: 15, first: new Date(T0).toISOString() });
  });

  it('sustained volume fires at most once per window', () => {
    expect(run(highDlp, p, burst(45, 4_000)).hits.map((h) => h.time - T0)).toEqual([56_000, 116_000, 176_000]);
  });

  it('min_severity filters what is counted', () => {
    const ph = highDlpParams.parse({ enabled: true, risk_level: 'high', min_severity: 'high', count: 2 });
    expect(run(highDlp, ph, [dlp(0, 'low'), dlp(1_000, 'medium')]).hits).toHaveLength(0);
    expect(run(highDlp, ph, [dlp(0, 'high'), dlp(1_000, 'critical')]).hits).toHaveLength(1);
  });

  it('window stays small', () => {
    const r = run(highDlp, p, burst(2_000, 500));
    expect(JSON.stringify(r.window).length).toBeLessThan(2_500);
    expect(r.window!.e.length).toBeLessThanOrEqual(32);
  });

  it('too-late events are dropped', () => {
    const late = [...burst(1, 0, 30 * MIN), ...burst(15, 1_000)];
    expect(run(highDlp, p, late).hits).toHaveLength(0);
  });
});
