/**
 * The admin console in a real browser (Debian Chromium driven by playwright-core) against a real
 * worker process and Redis: sign in with a token, watch a user turn high after an impossible-travel
 * replay, read the evidence and the map, reset, see the level fall and the audit entry, revoke a
 * session, check receivers and behaviors, and the narrow-window layout. Screenshots go to
 * test-artifacts/console/. Skips (saying why) only when Chromium cannot be installed.
 */
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, launch, shot, unlabelled } from './chromium.js';

// Browser globals used inside page.evaluate callbacks (the test project has no DOM lib).
declare const document: {
  activeElement: { textContent: string | null; tagName: string } | null;
  documentElement: { scrollWidth: number };
  querySelectorAll(sel: string): Iterable<Box>;
};
declare const window: { innerWidth: number };
interface Box {
  getBoundingClientRect(): { width: number; height: number };
  closest(sel: string): { clientWidth: number } | null;
}
declare function getComputedStyle(el: Box): { lineHeight: string };
declare const location: { hash: string };
declare const sessionStorage: { getItem(key: string): string | null };

const SECRET = 'Bearer console-receiver-secret-0123456789';
const AUDIENCE = 'https://console.receiver.test';

const h = workerHarness(
  'console',
  (url) => ({ receivers: [{ name: 'test-ssf', kind: 'ssf', endpoint: `${url}/events`, audience: AUDIENCE, subject_format: 'email', authorization: SECRET }] }),
  {
    receiver: { audience: AUDIENCE, issuer: 'https://riskstream.test' },
    behaviors: {
      impossible_travel: { enabled: true, risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500 },
      dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' },
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      failed_logins: {
        kind: 'threshold',
        enabled: true,
        risk_level: 'medium',
        expires_after: '1h',
        match: { type: 'login', outcome: 'failure' },
        count: 5,
        window: '10m',
      },
    },
  },
);

const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });

describe('console: static files and JSON routes', () => {
  it('serves the prebuilt console publicly with the right types and a strict CSP', async () => {
    const redirect = await fetch(`${h.worker.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(new URL(redirect.headers.get('location')!, `${h.worker.url}/console`).pathname).toBe('/console/');
    const page = await fetch(`${h.worker.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const js = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    const css = /href="\.\/(assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();
    const jsRes = await fetch(`${h.worker.url}/console/${js}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(jsRes.status).toBe(200);
    expect(jsRes.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(jsRes.headers.get('cache-control')).toMatch(/immutable/);
    const cssRes = await fetch(`${h.worker.url}/console/${css}`);
    expect(cssRes.headers.get('content-type')).toMatch(/^text\/css/);
    const etag = cssRes.headers.get('etag')!;
    expect((await fetch(`${h.worker.url}/console/${css}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${h.worker.url}/console/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${h.worker.url}/console/..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${h.worker.url}/console/build-info.json`)).status).toBe(200);
  });

  it('keeps the data routes behind the admin token and never shows a receiver secret', async () => {
    for (const p of ['/v1/receivers', '/v1/behaviors', '/v1/console/users', '/v1/users/a%40b.c/deliveries']) {
      expect((await fetch(`${h.worker.url}${p}`)).status, p).toBe(401);
      expect((await fetch(`${h.worker.url}${p}`, { headers: { authorization: `Bearer ${h.cfg.ingestToken}` } })).status, p).toBe(403);
    }
    const res = await api('/v1/receivers');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('console-receiver-secret');
    const body = JSON.parse(text) as { receivers: Array<Record<string, unknown>> };
    expect(body.receivers).toHaveLength(1);
    expect(body.receivers[0]).toMatchObject({ name: 'test-ssf', kind: 'ssf', source: 'config', enabled: true, authorization: 'set', audience: AUDIENCE });
    expect(body.receivers[0]!.health).toMatchObject({ queue: { total: expect.any(Number) } });

    const b = (await (await api('/v1/behaviors')).json()) as { behaviors: Array<Record<string, unknown>> };
    expect(b.behaviors.map((x) => x.id).sort()).toEqual(['dlp_detection', 'endpoint_detection', 'failed_logins', 'impossible_travel']);
    expect(b.behaviors.find((x) => x.id === 'failed_logins')).toMatchObject({
      kind: 'threshold',
      risk_level: 'medium',
      expires_after_ms: 3_600_000,
      params: { count: 5, window: 600_000 },
    });

    expect((await api('/v1/console/users?level=extreme')).status).toBe(400);
    expect((await api('/v1/console/users?cursor=!!')).status).toBe(400);
    expect((await api('/v1/console/users?limit=0')).status).toBe(400);
  });
});

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)('console in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const user = 'alice@example.com';
  // London at t0, Sydney two hours later; both in the recent past so sessions are still live.
  // On one UTC day (the evidence names the dates of logins on different days): before midnight when
  // t0 + 2 h would cross it.
  const recent = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
  const midnight = Math.floor((recent + 2 * 3_600_000) / 86_400_000) * 86_400_000; // the day of the second login
  const t0 = recent >= midnight ? recent : midnight - 3 * 3_600_000;
  const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

  const login = (id: string, time: number, where: { ip: string; lat: number; lon: number; city: string; country: string }, session: string, device: string) =>
    JSON.stringify({
      type: 'login',
      id,
      user,
      time,
      outcome: 'success',
      ip: where.ip,
      geo: { lat: where.lat, lon: where.lon, accuracy_km: 20, city: where.city, country: where.country },
      session: {
        id: session,
        expires_at: Date.now() + 12 * 3_600_000,
        idp: 'okta',
        claims: { email: user, groups: ['eng', 'admins'], amr: ['pwd', 'otp'], employee_id: 'E-1001' },
      },
      device: { id: device, posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true, edr_running: true } },
      network: { asn: where.country === 'GB' ? 2856 : 1221, colo: where.country === 'GB' ? 'LHR' : 'SYD', via: 'warp' },
    });

  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC', locale: 'en-GB' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // A few other users so the table is not alone (bob: DLP → medium, carol: quiet).
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      JSON.stringify({
        type: 'login',
        id: 'c-1',
        user: 'carol@example.com',
        time: t0,
        outcome: 'success',
        ip: '81.2.69.160',
        geo: { lat: 51.5, lon: -0.12, city: 'London', country: 'GB' },
      }),
    );
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', user: 'bob@example.com', time: t0 + 600_000, profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' }),
    );
    // dave crosses the Pacific (the map must show both sides of the antimeridian); the receiver
    // refuses his SET for good (400), which his timeline must say.
    h.receiver.respond = (set) =>
      (set.claims.sub_id as { email?: string } | undefined)?.email === 'dave@example.com'
        ? { status: 400, body: { err: 'invalid_request', description: 'unknown subject' } }
        : { status: 202 };
    for (const [id, time, ip, lat, lon, city] of [
      ['d-1', t0, '126.0.0.1', 35.68, 139.69, 'Tokyo'],
      ['d-2', t0 + 3_600_000, '8.8.4.4', 37.77, -122.42, 'San Francisco'],
    ] as const) {
      await h.redis.xadd(
        `${h.prefix}:login`,
        '*',
        'event',
        JSON.stringify({ type: 'login', id, user: 'dave@example.com', time, outcome: 'success', ip, geo: { lat, lon, city } }),
      );
    }
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });

  it('signs in with a token, shows a user turning high live, explains why, resets, audits, revokes', async () => {
    // --- sign in: a wrong token is refused, the right one is kept for the tab.
    await page.goto(`${h.worker.url}/console/`);
    await expect.poll(() => page.getByLabel('Admin token').isVisible()).toBe(true);
    expect(await unlabelled(page)).toEqual([]);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted.').waitFor();
    const refused = errors.length; // Chromium logs the refused request (401) as a console error.
    await shot(page, '01-sign-in');
    await page.getByLabel('Admin token').fill(h.cfg.adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('riskstream.token'))).toBe(h.cfg.adminToken);
    expect(await unlabelled(page)).toEqual([]);
    // The header names the signed-in token as the audit log does.
    const me = (await (await api('/v1/whoami')).json()) as { actor: string };
    await expect.poll(() => page.locator('#who').textContent()).toBe(`signed in as ${me.actor}`);

    // --- impossible travel replayed after the table is open: the row appears by itself, HIGH.
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login('l-lon', t0, { ip: '81.2.69.142', lat: 51.5, lon: -0.12, city: 'London', country: 'GB' }, 's-london', 'd-mac'),
    );
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login('l-syd', t0 + 2 * 3_600_000, { ip: '1.128.0.1', lat: -33.87, lon: 151.21, city: 'Sydney', country: 'AU' }, 's-sydney', 'd-mac'),
    );
    const row = page.locator(`tr[data-user="${user}"]`);
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => row.locator('.level').textContent(), { timeout: 15_000 }).toBe('High');
    expect(await row.textContent()).toContain('Impossible travel');
    // High first.
    expect(await page.locator('tbody tr').first().getAttribute('data-user')).toBe(user);
    await expect.poll(() => page.locator('tr[data-user="bob@example.com"] .level').textContent(), { timeout: 15_000 }).toBe('Medium');
    await shot(page, '02-risk-table');

    // Filters: level, behavior, search.
    await page.getByLabel('Level', { exact: true }).selectOption('medium');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).toEqual(['bob@example.com']);
    await page.getByLabel('Level', { exact: true }).selectOption('');
    await page.getByLabel('Behavior', { exact: true }).selectOption('impossible_travel');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).toEqual([user, 'dave@example.com']);
    await page.getByLabel('Behavior', { exact: true }).selectOption('');
    await page.getByLabel('Search users').fill('caro');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).toEqual(['carol@example.com']);
    await page.getByLabel('Search users').fill('');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(4);

    // --- the user's page: level, evidence in words, the map, the timeline with SET outcomes.
    await page.getByRole('link', { name: user }).click();
    await page.getByRole('heading', { level: 1, name: user }).waitFor();
    await expect.poll(() => page.locator('.user-head .level').textContent()).toBe('High');
    const words = await page.locator('.behavior .evidence-words').textContent();
    expect(words).toMatch(
      new RegExp(
        `^London ${hhmm(t0)} → Sydney ${hhmm(t0 + 7_200_000)} UTC, 17\\s0\\d\\d km \\(at least 16\\s9\\d\\d km allowing for location accuracy\\) in 2 h = 8\\s4\\d\\d km/h$`,
      ),
    );
    const map = page.locator('svg.map');
    await map.waitFor();
    expect(await map.getAttribute('role')).toBe('img');
    expect(await map.locator('path.map-land').first().getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+L/);
    expect(await map.locator('circle').count()).toBe(2);
    expect(await map.locator('text').allTextContents()).toEqual([`London ${hhmm(t0)}`, `Sydney ${hhmm(t0 + 7_200_000)}`]);
    const v1 = page.locator('.tl-change[data-version="1"]');
    await v1.locator('.delivery[data-receiver="test-ssf"].delivery-ok').waitFor({ timeout: 20_000 });
    expect(await v1.textContent()).toMatch(/test-ssf: delivered \(HTTP 202\)/);
    // Each time names its clock: the detection happened at the Sydney login, was processed later.
    expect(await page.locator('.tl-hit .tl-head').first().textContent()).toMatch(
      new RegExp(`happened \\d{4}-\\d\\d-\\d\\d ${hhmm(t0 + 7_200_000)}:00 UTC · processed `),
    );
    expect(await v1.locator('.tl-head').textContent()).toMatch(new RegExp(`happened \\S+ ${hhmm(t0 + 7_200_000)}:00 UTC · processed `));
    expect(await unlabelled(page)).toEqual([]);
    await shot(page, '03-user-high');
    await shot(page, 'console-readme', false);

    // A trip across the Pacific: the world is drawn on both sides of the antimeridian.
    await page.goto(`${h.worker.url}/console/#/users/dave%40example.com`);
    await page.getByRole('heading', { level: 1, name: 'dave@example.com' }).waitFor();
    const pacific = page.locator('svg.map');
    await pacific.waitFor();
    expect(await pacific.locator('path.map-land[transform]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.behavior .evidence-words').textContent()).toMatch(/^Tokyo \d\d:\d\d → San Francisco \d\d:\d\d UTC/);
    const rejected = page.locator('.tl-change[data-version="1"] .delivery[data-receiver="test-ssf"].delivery-bad');
    await rejected.waitFor({ timeout: 20_000 });
    expect(await rejected.textContent()).toMatch(/test-ssf: rejected \(HTTP 400, invalid_request: unknown subject\)/);
    await shot(page, '03b-user-pacific', false);
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: user }).waitFor();

    // --- reset: Escape cancels; confirm with a reason resets, the level falls, a SET goes out.
    await page.getByRole('button', { name: 'Reset risk…' }).click();
    const dialog = page.getByRole('dialog', { name: `Reset risk for ${user}?` });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Reset risk…');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByLabel(/^Reason/).fill('travel confirmed with the user');
    await shot(page, '04-reset-confirm', false);
    await dialog.getByRole('button', { name: 'Reset risk' }).click();
    await expect.poll(() => page.locator('.user-head .level').textContent(), { timeout: 10_000 }).toBe('Low');
    await page.getByRole('status').getByText(`Risk reset for ${user}: High → Low (version 2).`).waitFor();
    const v2 = page.locator('.tl-change[data-version="2"]');
    await v2.waitFor();
    expect(await v2.textContent()).toMatch(/by admin/);
    await v2.locator('.delivery[data-receiver="test-ssf"].delivery-ok').waitFor({ timeout: 20_000 });
    await waitFor(() => h.receiver.received.filter((s) => eventOf(s).body.current_level === 'LOW').length === 1, { what: 'the LOW SET' });
    await shot(page, '05-user-reset');

    // --- the audit entry of the reset.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByLabel(/^Target/).fill(user);
    await page.getByLabel(/^Action/).fill('risk.reset');
    const entry = page.locator('tr[data-action="risk.reset"]');
    await entry.waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(await entry.textContent()).toContain('travel confirmed with the user');
    expect(await entry.textContent()).toMatch(/token:[0-9a-f]{8}/);
    // The reset row shows the new level, not only the previous one.
    expect(await entry.locator('.audit-change').textContent()).toBe('High → Low');
    expect(await unlabelled(page)).toEqual([]);
    await shot(page, '06-audit');
    // riskstream's own level change (the trip raising alice to High) is in the audit log too.
    await page.getByLabel(/^Action/).fill('risk.level_changed');
    const own = page.locator('tr[data-action="risk.level_changed"]').filter({ hasText: user });
    await expect.poll(() => own.count()).toBe(1);
    expect(await own.locator('td').nth(1).textContent()).toBe('system');
    expect(await own.locator('.audit-change').textContent()).toBe('Low → High');

    // --- sessions: all, one (a readable identity), revoke with a reason.
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Active sessions' }).waitFor();
    await page.locator('tr[data-session="s-sydney"]').waitFor();
    expect(await page.locator('tr[data-session="s-london"]').count()).toBe(1);
    await shot(page, '07-sessions');
    await page.getByRole('link', { name: 's-sydney' }).click();
    await page.getByRole('heading', { level: 1, name: 'Session s-sydney' }).waitFor();
    const claims = page.getByRole('region', { name: 'IdP claims' });
    expect(await claims.textContent()).toMatch(/groups\s*eng, admins/);
    const device = await page.getByRole('region', { name: 'Device and posture' }).textContent();
    expect(device).toMatch(/disk_encrypted\s*yes/);
    expect(await page.getByRole('region', { name: 'Network context' }).textContent()).toMatch(/asn\s*1221.*colo\s*SYD/s);
    expect(await unlabelled(page)).toEqual([]);
    await shot(page, '08-session');
    await page.getByRole('button', { name: 'Revoke session…' }).click();
    const rdlg = page.getByRole('dialog', { name: 'Revoke session s-sydney?' });
    await rdlg.getByLabel(/^Reason/).fill('stolen laptop');
    await rdlg.getByRole('button', { name: 'Revoke session' }).click();
    await page.getByText('Session revoked.').waitFor();
    expect((await api('/v1/sessions/s-sydney')).status).toBe(404);
    await waitFor(() => h.receiver.received.some((s) => eventOf(s).type.endsWith('/session-revoked')), { what: 'the session-revoked SET' });
    await page.getByRole('link', { name: 'Back to all sessions' }).click();
    await page.locator('tr[data-session="s-london"]').waitFor();
    expect(await page.locator('tr[data-session="s-sydney"]').count()).toBe(0);

    // The user's timeline shows the revocation's delivery too.
    await page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    await page.locator('.tl-revoke .delivery[data-receiver="test-ssf"].delivery-ok').waitFor({ timeout: 20_000 });

    // --- receivers and behaviors (read-only).
    await page.getByRole('link', { name: 'Receivers & behaviors' }).click();
    const card = page.locator('article[data-receiver="test-ssf"]');
    await card.waitFor();
    const cardText = await card.textContent();
    expect(cardText).toContain('Healthy');
    expect(cardText).toContain('configured (not shown)');
    expect(cardText).not.toContain('console-receiver-secret');
    expect(await page.locator('tr[data-behavior="failed_logins"]').textContent()).toMatch(/window\s*10m/);
    await shot(page, '09-receivers');

    // --- a desktop, a narrow laptop window, a half-screen one and a phone (390 px): no horizontal
    // scrolling of the page on any view; table captions fit the visible width; a time wraps at
    // most once (between date and time of day).
    for (const width of [1280, 1024, 720, 390]) {
      await page.setViewportSize({ width, height: 800 });
      for (const hash of ['#/risk', '#/audit', '#/sessions', '#/sessions/s-london', '#/receivers', `#/users/${encodeURIComponent(user)}`]) {
        await page.goto(`${h.worker.url}/console/${hash}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${hash} at ${width}px`).toBeLessThanOrEqual(0);
        const layout = await page.evaluate(() => ({
          captions: [...document.querySelectorAll('caption')].map((c: Box) => [c.getBoundingClientRect().width, c.closest('.table-wrap')!.clientWidth]),
          times: [...document.querySelectorAll('td time, th time')].map(
            (t: Box) => t.getBoundingClientRect().height / parseFloat(getComputedStyle(t).lineHeight),
          ),
        }));
        for (const [cw, vw] of layout.captions) expect(cw!, `${hash} at ${width}px: caption width`).toBeLessThanOrEqual(vw!);
        for (const lines of layout.times) expect(lines, `${hash} at ${width}px: lines of a time`).toBeLessThan(2.5);
        expect(await unlabelled(page), `${hash} at ${width}px`).toEqual([]);
      }
      await shot(page, `10-user-${width}px`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // Leaving a page while it still loads: the late page never writes into the new one.
    await page.goto(`${h.worker.url}/console/#/risk`);
    await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
    await page.evaluate((u) => {
      location.hash = `#/users/${encodeURIComponent(u)}`;
      setTimeout(() => (location.hash = '#/audit'), 0);
    }, user);
    await page.waitForLoadState('networkidle');
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.locator('main h1').allTextContents()).toEqual(['Audit log']);
    expect(await page.locator('main h2').allTextContents()).toEqual([]);

    // --- keyboard: the skip link is first and lands on the page heading.
    await page.goto(`${h.worker.url}/console/#/risk`);
    await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
    await page.locator('main[aria-busy="false"]').waitFor();
    await page.getByRole('link', { name: 'riskstream console' }).focus();
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');

    // No console errors but the refused sign-in's 401.
    expect(errors.slice(0, refused).every((e) => /401/.test(e))).toBe(true);
    expect(errors.slice(refused)).toEqual([]);

    // A session or user id `.` / `..` cannot be put in a URL path (the browser resolves it: the
    // session `.` would read the list): said so, rather than another resource shown under its name.
    for (const route of ['#/sessions/.', '#/sessions/..', '#/users/..']) {
      await page.goto(`${h.worker.url}/console/${route}`);
      await page.getByText("cannot be used in a browser's URL path").waitFor({ timeout: 5000 });
      expect(await page.getByText('Other fields').count(), route).toBe(0);
    }

    if (process.env.UPDATE_CONSOLE_SCREENSHOT)
      copyFileSync(
        join(resolve(import.meta.dirname, '../../test-artifacts/console'), 'console-readme.png'),
        resolve(import.meta.dirname, '../../docs/console.png'),
      );
  }, 55_000);

  it('a session page does not read its session while the revoke is in flight (a read after the deletion was a 404 the browser logs)', async () => {
    const before = errors.length;
    await page.goto(`${h.worker.url}/console/#/sessions/s-london`);
    await page.getByRole('heading', { level: 1, name: 'Session s-london' }).waitFor();
    // The DELETE reaches the worker at once; its answer is held longer than the page's refresh tick (3 s).
    let deleting = false;
    const readsWhileDeleting: string[] = [];
    await page.route('**/v1/sessions/s-london', async (route) => {
      if (route.request().method() !== 'DELETE') {
        if (deleting) readsWhileDeleting.push(route.request().method());
        return route.continue();
      }
      deleting = true;
      const response = await route.fetch();
      await new Promise((r) => setTimeout(r, 4_500));
      await route.fulfill({ response });
      deleting = false;
    });
    try {
      await page.getByRole('button', { name: 'Revoke session…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Revoke session s-london?' });
      await dlg.getByLabel(/^Reason/).fill('lost phone');
      await dlg.getByRole('button', { name: 'Revoke session' }).click();
      await page.getByText('Session revoked.').waitFor({ timeout: 15_000 });
    } finally {
      await page.unroute('**/v1/sessions/s-london');
    }
    expect(readsWhileDeleting).toEqual([]);
    expect(errors.slice(before)).toEqual([]);
  }, 30_000);
});

describe('console: the users table route', () => {
  it('pages through filtered users with a cursor, high first, and explains bad input', async () => {
    const users = Array.from({ length: 5 }, (_, i) => `pager-${i}@example.com`);
    for (const [i, u] of users.entries()) {
      const event =
        i < 2
          ? { type: 'dlp', user: u, time: Date.now(), profile: 'pii', severity: 'high', action: 'block' }
          : { type: 'login', user: u, time: Date.now(), outcome: 'success', ip: `10.0.0.${i + 1}` };
      await h.redis.xadd(`${h.prefix}:${i < 2 ? 'activity' : 'login'}`, '*', 'event', JSON.stringify(event));
    }
    type Page = { users: Array<{ user: string; level: string; behaviors: Array<{ id: string }> }>; next_cursor: string | null; counts: Record<string, number> };
    const get = async (q: string): Promise<Page> => (await (await api(`/v1/console/users?${q}`)).json()) as Page;
    await waitFor(async () => (await get('q=pager-&limit=10')).users.length === 5, { what: 'five pager users' });

    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null && pages++ < 10) {
      const p: Page = await get(`q=PAGER-&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.users.length).toBeLessThanOrEqual(2);
      seen.push(...p.users.map((u) => u.user));
      cursor = p.next_cursor;
    }
    expect(seen.sort()).toEqual(users);

    // A user turning medium between two pages moves ahead of the cursor: the next pages neither
    // repeat the users already shown nor skip the others (offset paging would repeat one).
    const first = await get('q=pager-&limit=2');
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', user: users[4], time: Date.now(), profile: 'pii', severity: 'high', action: 'block' }),
    );
    await waitFor(async () => (await get('q=pager-&level=medium')).users.length === 3, { what: 'pager-4 at medium' });
    const rest: string[] = [];
    for (let c: string | null = first.next_cursor, n = 0; c !== null && n < 10; n++) {
      const p: Page = await get(`q=pager-&limit=2&cursor=${c}`);
      rest.push(...p.users.map((u) => u.user));
      c = p.next_cursor;
    }
    const shown = [...first.users.map((u) => u.user), ...rest];
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.sort()).toEqual(users.slice(0, 4)); // pager-4 moved ahead of the cursor: on page 1 when reloaded
    const all = await get('q=pager-');
    expect(all.users.slice(0, 3).map((u) => u.level)).toEqual(['medium', 'medium', 'medium']);
    expect(all.users[0]!.behaviors.map((b) => b.id)).toEqual(['dlp_detection']);
    expect((await get('q=pager-&behavior=dlp_detection')).users.map((u) => u.user).sort()).toEqual([...users.slice(0, 2), users[4]]);
    expect((await get('q=pager-&level=low')).users).toHaveLength(2);
    expect(all.counts.total).toBeGreaterThanOrEqual(5);
    const deliveries = async (q = ''): Promise<{ user: string; deliveries: Array<Record<string, unknown>> }> =>
      (await (await api(`/v1/users/pager-0%40example.com/deliveries${q}`)).json()) as { user: string; deliveries: Array<Record<string, unknown>> };
    const d = await waitFor(async () => (await deliveries()).deliveries.find((x) => x.action === 'set.delivered'), { what: "pager-0's delivery" });
    expect(d).toMatchObject({ receiver: 'test-ssf', event: 'risk-level-change', version: 1, outcome: 'delivered', status: 202, jti: expect.any(String) });
    expect((await deliveries(`?since=${Date.now() - 600_000}`)).deliveries).toContainEqual(d);
    expect((await deliveries(`?since=${Date.now() + 60_000}`)).deliveries).toEqual([]);
    expect((await api('/v1/users/pager-0%40example.com/deliveries?since=yesterday')).status).toBe(400);
  });
});
