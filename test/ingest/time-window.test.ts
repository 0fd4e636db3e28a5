import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/ingest/decode.js';
import { validateEvent } from '../../src/ingest/event-schema.js';
import { applyTimeWindow, DEFAULT_TIME_WINDOW, MAX_EPOCH_MS, timeOutOfWindow } from '../../src/ingest/time-window.js';
import type { CanonicalEvent } from '../../src/types.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const DAY = 86_400_000;
const W = DEFAULT_TIME_WINDOW;

describe('time window (frozen now)', () => {
  it.each([
    ['now', NOW, null],
    ['365 days ago (edge)', NOW - 365 * DAY, null],
    ['2 days ahead (edge)', NOW + 2 * DAY, null],
    ['a week ago', NOW - 7 * DAY, null],
    ['366 days ago', NOW - 366 * DAY, /^time: time_out_of_range \(more than 365d in the past\)$/],
    ['2 days + 1 ms ahead', NOW + 2 * DAY + 1, /^time: time_out_of_range \(more than 2d in the future\)$/],
    ['year 5138 (1e20)', 1e20, /time_out_of_range \(not a representable time\)/],
    ['Infinity', Number.POSITIVE_INFINITY, /time_out_of_range/],
    ['NaN', Number.NaN, /time_out_of_range/],
    ['negative', -1, /time_out_of_range/],
  ])('%s', (_n, t, want) => {
    const r = timeOutOfWindow(t, NOW, W);
    if (want === null) expect(r).toBeNull();
    else expect(r).toMatch(want);
  });

  it('caps a session lifetime at time + max_session_lifetime, without changing the input', () => {
    const ev: CanonicalEvent = { type: 'login', user: 'a', time: NOW, session: { id: 's', expires_at: NOW + 400 * DAY } };
    const r = applyTimeWindow(ev, NOW, W);
    expect(r.ok && r.event.session?.expires_at).toBe(NOW + 90 * DAY);
    expect(ev.session?.expires_at).toBe(NOW + 400 * DAY);
    const short = applyTimeWindow({ ...ev, session: { id: 's', expires_at: NOW + DAY } }, NOW, W);
    expect(short.ok && short.event.session?.expires_at).toBe(NOW + DAY);
  });
});

describe('representable times in the schema (whatever the window)', () => {
  const base = { type: 'login', user: 'alice@example.com', outcome: 'success' };
  it.each([
    ['time 1e21', { ...base, time: 1e21 }],
    ['time 1e308', { ...base, time: 1e308 }],
    ['time "1e308" string', { ...base, time: '1e308' }],
    ['time 9e15 (past Date range)', { ...base, time: 9e15 }],
    ['session.expires_at 1e22', { ...base, time: NOW, session: { id: 's-1', expires_at: 1e22 } }],
  ])('%s → time_out_of_range, value not quoted', (_n, obj) => {
    const r = validateEvent(obj as Record<string, unknown>);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/time_out_of_range/);
    expect(!r.ok && r.reason).not.toMatch(/1e|10000000/);
  });

  it('an unparseable time → time_invalid, value not quoted', () => {
    const r = validateEvent({ ...base, time: 'hunter2-password' });
    expect(!r.ok && r.reason).toMatch(/^time: .*time_invalid/);
    expect(!r.ok && r.reason).not.toContain('hunter2');
  });

  it('MAX_EPOCH_MS itself is a time', () => {
    expect(validateEvent({ ...base, time: MAX_EPOCH_MS }).ok).toBe(true);
  });
});

describe('decodeEntry with the window', () => {
  const raw = (event: Record<string, unknown>) => ({ stream: 's', id: '1-0', fields: { event: JSON.stringify(event) }, deliveries: 1 });
  const base = { type: 'login', user: 'alice@example.com', outcome: 'success' };

  it('refuses a plausible-looking but far-future time (1e13 ms = year 2286)', () => {
    const r = decodeEntry(raw({ ...base, time: 1e13 }), { window: W }, NOW);
    expect(!r.ok && r.reason).toMatch(/^time: time_out_of_range/);
    // Without a window (library use) the time is representable and accepted.
    expect(decodeEntry(raw({ ...base, time: 1e13 }), {}, NOW).ok).toBe(true);
  });

  it('caps session.expires_at of a decoded login', () => {
    const r = decodeEntry(raw({ ...base, time: NOW, session: { id: 's', expires_at: NOW + 1000 * DAY } }), { window: W }, NOW);
    expect(r.ok && r.event.session?.expires_at).toBe(NOW + 90 * DAY);
  });
});
