/**
 * Attacker-shaped telemetry in a real browser against a real worker and Redis: every string the
 * console shows from events (user and session ids, IdP claims, device ids and posture, app and DLP
 * profile names, detections, ASN and city names, user agents), from receivers
 * (a receiver's error text, a registered SSF stream's endpoint URL) and from the audit log (a reset
 * reason) carries HTML and script payloads. Every view is opened twice: once under the console's
 * own Content-Security-Policy (no violation may be reported: neither an injected handler nor one
 * of the console's own inline styles or scripts), once with the CSP bypassed (so an HTML sink
 * would run the payload: it must not). The payloads are shown as text, no request leaves the
 * worker's origin and the admin token never goes into a URL or into localStorage.
 * Skips (saying why) only when Chromium cannot be installed.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, launch } from './chromium.js';

// Browser globals used inside page.evaluate callbacks (the test project has no DOM lib).
declare const document: {
  body: { textContent: string | null };
  querySelectorAll(sel: string): { length: number };
  addEventListener(type: string, l: (e: { violatedDirective: string; blockedURI: string; sample?: string }) => void): void;
};
declare const window: { __pwned?: string[]; __csp?: string[] };
declare const localStorage: { length: number };

/** Text that runs `window.__pwned.push(tag)` wherever it is parsed as HTML (or followed as a URL). */
const P = (tag: string): string =>
  `${tag}<img src=x onerror="(window.__pwned=window.__pwned||[]).push('${tag}')">"><svg onload="(window.__pwned=window.__pwned||[]).push('${tag}')"></svg>javascript:alert(1)`;

const SSF_TOKEN = 'ssf-token-hostile-text-0123456789';
const AUDIENCE = 'https://hostile.receiver.test';
const user = P('user');
const sid = P('sid');

const h = workerHarness(
  'console-hostile',
  (url) => ({
    receivers: [{ name: 'rx-hostile', kind: 'ssf', endpoint: `${url}/events`, audience: AUDIENCE }],
    http: { ssf_tokens: [SSF_TOKEN] },
    ssf: { allowed_endpoints: ['127.0.0.1'] },
  }),
  {
    receiver: { audience: AUDIENCE, issuer: 'https://riskstream.test' },
  },
);

const admin = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${h.cfg.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });

const levelOf = async (): Promise<string | undefined> =>
  ((await (await admin(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { level?: string }).level;

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)('console: attacker-shaped text', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    // Every SET is refused with an error text of the attacker's choosing (shown as delivery health).
    h.receiver.respond = () => ({ status: 400, body: { err: 'invalid_request', description: P('rx-error') } });
    const t0 = Date.now() - 3 * 3_600_000;
    const login = (id: string, time: number, geo: Record<string, unknown>, ip: string): string =>
      sessionLogin(user, sid, {
        id,
        time,
        ip,
        geo,
        user_agent: P('ua'),
        session: {
          id: sid,
          expires_at: Date.now() + 3_600_000,
          idp: P('idp'),
          claims: { email: P('claim'), groups: [P('group')], picture: 'javascript:alert(1)' },
        },
        device: { id: P('device'), posture: { os: P('os'), disk_encrypted: true } },
        network: { asn: 64500, asn_name: P('asn'), colo: P('colo') },
      });
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', user, time: t0 + 600_000, profile: P('profile'), severity: 'high', action: 'block', app: P('app') }),
    );
    await waitFor(async () => (await levelOf()) === 'medium', { what: 'the hostile user medium', timeout: 20_000 });
    // An admin resets with a reason quoting the attacker's text (the audit log shows it), then an
    // impossible trip (the map) and a detection raise the user again.
    const reset = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST', body: JSON.stringify({ reason: P('reset-reason') }) });
    expect(reset.status).toBe(200);
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('l-1', t0, { lat: 51.5, lon: -0.12, city: P('city1'), country: 'GB' }, '81.2.69.142'));
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login('l-2', t0 + 3_600_000, { lat: -33.87, lon: 151.21, city: P('city2'), country: 'AU' }, '1.128.0.1'),
    );
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      criticalDetection(user, { device: { id: P('edr-device') }, vendor: P('vendor'), detection: P('detection') }),
    );
    await waitFor(
      async () => {
        const r = (await (await admin(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { behaviors?: unknown[] };
        return (r.behaviors?.length ?? 0) >= 2;
      },
      { what: 'impossible travel and the detection active', timeout: 20_000 },
    );
    // A registered SSF stream whose endpoint URL carries markup (shown on the receivers page).
    const ssf = apiClient(() => h.worker.url, SSF_TOKEN);
    const created = await ssf('POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: `http://127.0.0.1:9/"><svg/onload=alert(1)>?q=<img/src=x/onerror=alert(1)>` },
      events_requested: [CAEP_RISK],
      description: P('stream'),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    browser = await launch();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Each view, the attacker's text it must show as text. */
  const views: Array<[string, string[]]> = [
    ['#/risk', [user]],
    [`#/users/${encodeURIComponent(user)}`, [user, P('city1'), P('city2'), P('profile'), P('detection')]],
    ['#/sessions', [user, sid]],
    [
      `#/sessions/${encodeURIComponent(sid)}?user=${encodeURIComponent(user)}`,
      [user, P('claim'), P('group'), P('idp'), P('device'), P('os'), P('asn'), P('colo')],
    ],
    ['#/receivers', [P('rx-error')]],
    ['#/audit', [user, P('reset-reason')]],
  ];

  for (const bypassCSP of [false, true]) {
    it(`shows every payload as text and runs none of them (${bypassCSP ? 'CSP bypassed' : 'under the CSP'})`, async () => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP });
      const requests: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const dialogs: string[] = [];
      const page = await context.newPage();
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          (window.__csp = window.__csp ?? []).push(`${e.violatedDirective} ${e.blockedURI} ${e.sample ?? ''}`),
        );
      });
      await page.goto(`${h.worker.url}/console/`);
      await page.getByLabel('Admin token').fill(h.cfg.adminToken);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
      for (const [hash, texts] of views) {
        await page.goto(`${h.worker.url}/console/${hash}`);
        // Waits for the view to show each text (as text), then checks what ran before what is shown.
        const missing: string[] = [];
        for (const t of texts)
          await page.waitForFunction((x) => (document.body.textContent ?? '').includes(x), t, { timeout: 15_000 }).catch(() => missing.push(t.slice(0, 12)));
        if (hash.startsWith('#/users/')) await page.locator('svg.map').first().waitFor();
        if (hash === '#/receivers') await expect.poll(() => page.evaluate(() => (document.body.textContent ?? '').includes('/%22%3E%3Csvg'))).toBe(true);
        // No handler run, no dialog, no CSP violation, not one element from the payloads.
        expect(await page.evaluate(() => window.__pwned ?? []), hash).toEqual([]);
        expect(dialogs, hash).toEqual([]);
        expect(await page.evaluate(() => window.__csp ?? []), hash).toEqual([]);
        expect(await page.evaluate(() => document.querySelectorAll('[onerror], [onload], img[src="x"], a[href^="javascript:"]').length), hash).toBe(0);
        expect(missing, `${hash} shows the payloads as text`).toEqual([]);
      }
      // Loopback only, the worker's own origin; the token in no URL and not in localStorage.
      const origin = new URL(h.worker.url).origin;
      expect(requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin)).toEqual([]);
      expect(requests.filter((u) => u.includes(h.cfg.adminToken))).toEqual([]);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      await context.close();
    }, 120_000);
  }
});
