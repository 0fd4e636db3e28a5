import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { mfaFatigue, type MfaFatigueWindow } from '../../src/detect/mfa-fatigue.js';
import { ev, MIN, run } from './fixtures.js';

/**
 * mfa_fatigue's stored window across versions. Workers are upgraded one at a time and partitions
 * move between them: a window written by this version is read by an older worker, which counts an
 * attempt whose outcome slot is not `denied` as unanswered (its evidence: `timeout` = count −
 * denied). A fraud-reported denial must therefore keep `denied` in that slot.
 */
const params = behaviorSchema('mfa_fatigue').parse({ risk_level: 'high', count: 3, window: '10m' });
const push = (i: number, fields: Record<string, unknown>) => ev('mfa', i * MIN, { id: `p-${i}`, factor: 'push', ...fields });

/** The evidence an older worker (before fraud_reported) builds from stored attempts. */
const olderEvidence = (w: MfaFatigueWindow) => {
  const denied = w.t.a.filter((p) => p[2] === 'denied').length;
  return { denied, timeout: w.t.a.length - denied };
};

describe('mfa_fatigue window written by this version', () => {
  it('an older worker still reads a fraud-reported denial as denied, not unanswered', () => {
    const events = [push(0, { outcome: 'denied', reason: 'fraud_reported' }), push(1, { outcome: 'denied' }), push(2, { outcome: 'timeout' })];
    const r = run(mfaFatigue, params, events);
    expect(olderEvidence(r.window as MfaFatigueWindow)).toEqual({ denied: 2, timeout: 1 });
    // This version still names the fraud report.
    expect(r.hits[0]).toMatchObject({ evidence: { count: 3, denied: 2, timeout: 1, fraud_reported: 1 } });
  });

  it('a window stored before (outcome slot denied / timeout) and one stored with the fraud slot read as before', () => {
    const stored: MfaFatigueWindow = {
      c: { e: [], f: [] },
      t: {
        a: [
          [Date.parse('2026-11-23T08:00:00Z'), 'p-0', 'fraud'],
          [Date.parse('2026-11-23T08:01:00Z'), 'p-1', 'timeout'],
        ],
        s: [],
        f: [],
      },
    };
    const r = run(mfaFatigue, params, [push(2, { outcome: 'denied' }), push(3, { outcome: 'success', id: 'ok' })], { window: stored });
    const approved = r.hits.find((h) => h.evidence.approved === true)!;
    expect(approved.evidence).toMatchObject({ count: 3, denied: 2, timeout: 1, fraud_reported: 1 });
  });
});
