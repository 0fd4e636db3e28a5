import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR, MIN, ago } from '../helpers/clock.js';

/** Every shipped behavior, end to end: events in Redis → the behavior active → a SET out. */
const shipped = parse(readFileSync(new URL('../../config/behaviors.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
const h = workerHarness('catalogue', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/e`, audience: 'https://rx' }] }), {
  behaviors: shipped,
});

// Recent event times (expiry counts from them): the latest events, 2 h after T0, are 10 min old.
const T0 = ago(2 * HOUR + 10 * MIN);
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

/** user → [events, expected behavior, expected level] */
const cases: Record<string, [Array<Record<string, unknown>>, string, string]> = {
  'traveller@example.com': [
    [
      { type: 'login', time: at(0), ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } },
      { type: 'login', time: at(7200), ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } },
    ],
    'impossible_travel',
    'high',
  ],
  'leaker@example.com': [[{ type: 'dlp', time: at(0), profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' }], 'dlp_detection', 'medium'],
  'bulk@example.com': [
    Array.from({ length: 15 }, (_, i) => ({ type: 'dlp', id: `bulk-${i}`, time: at(i * 2), profile: 'pii', severity: 'low', app: 'mail' })),
    'high_dlp',
    'high',
  ],
  'infected@example.com': [
    [{ type: 'endpoint', time: at(0), device: { id: 'd-1' }, vendor: 'sentinelone', detection: 'ransomware', severity: 'critical' }],
    'endpoint_detection',
    'high',
  ],
  'weak-device@example.com': [[{ type: 'posture', time: at(0), device: { id: 'd-2' }, vendor: 'crowdstrike', score: 62 }], 'device_posture_score', 'medium'],
  'downloader@example.com': [
    [{ type: 'swg', time: at(0), domain: 'files.example.net', file: { name: 'invoice.exe', verdict: 'malicious' }, action: 'block' }],
    'malicious_file',
    'high',
  ],
  'phished@example.com': [[{ type: 'swg', time: at(0), domain: 'login-examp1e.com', categories: ['phishing'], action: 'block' }], 'security_domain', 'high'],
  'explorer@example.com': [
    [{ type: 'swg', time: at(0), domain: 'x7f3k.top', categories: ['newly_seen_domain'], action: 'allow' }],
    'high_risk_domain',
    'medium',
  ],
  'guessed@example.com': [
    Array.from({ length: 10 }, (_, i) => ({ type: 'login', id: `f-${i}`, time: at(7200 + i * 10), outcome: 'failure', ip: '203.0.113.9' })),
    'failed_logins',
    'medium', // expires_after 1h: the failures are the latest events
  ],
  'hijacked@example.com': [
    [
      { type: 'login', time: at(0), ip: '81.2.69.142', session: { id: 'cat-s-1' }, device: { id: 'd-9' }, network: { asn: 2856 }, geo: { country: 'GB' } },
      { type: 'access', time: at(600), ip: '1.128.0.1', session: { id: 'cat-s-1' }, device: { id: 'd-77' }, network: { asn: 1221 }, app: 'drive' },
    ],
    'session_hijack',
    'high',
  ],
};

describe('the shipped behavior catalogue, end to end', () => {
  it('each behavior raises its user to its level and the receiver gets that level', { timeout: 60_000 }, async () => {
    for (const [user, [events]] of Object.entries(cases)) {
      for (const e of events) {
        const stream = e.type === 'login' ? 'login' : 'activity';
        await h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify({ user, ...e }));
      }
    }
    const users = Object.keys(cases);
    /** Every level the receiver was sent for `user`, in arrival order. */
    const levelsOf = (user: string): string[] =>
      h.receiver.received.filter((s) => (s.claims.sub_id as { email?: string }).email === user).map((s) => String(eventOf(s).body.current_level));
    const atLevel = (user: string): boolean => levelsOf(user).at(-1) === cases[user]![2].toUpperCase();
    // On a timeout: which users are not there, and every level each of them was sent.
    const behind = (): string => JSON.stringify(users.filter((u) => !atLevel(u)).map((u) => [u, levelsOf(u)]));
    await waitFor(() => users.every(atLevel), { what: 'every user at the expected level', timeout: 40_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; users behind and the levels they were sent: ${behind()}`);
    });
    for (const [user, [, behavior, level]] of Object.entries(cases)) {
      const res = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
      const risk = (await res.json()) as { level: string; behaviors: Array<{ id: string; summary: string }> };
      expect(risk.level, user).toBe(level);
      expect(
        risk.behaviors.map((b) => b.id),
        user,
      ).toContain(behavior);
      expect(risk.behaviors.find((b) => b.id === behavior)!.summary.length, user).toBeGreaterThan(10);
    }
    expect(h.receiver.received.every((s) => s.verified)).toBe(true);
  });
});
