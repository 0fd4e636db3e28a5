/**
 * The console's admin actions and identities in a real browser (Debian Chromium, playwright-core)
 * against a real worker and Redis: a size-capped identity says what was cut, a refreshed session
 * says when (not epoch milliseconds), a long id does not widen the page, a tick's read that started
 * before a reset never shows the old level after the new one, and Reset / Revoke cannot be sent
 * twice while the first is in flight. Skips (saying why) only when Chromium cannot be installed.
 */
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, launch, shot, signIn } from './chromium.js';

// Browser globals used inside page.evaluate callbacks (the test project has no DOM lib).
declare const document: {
  documentElement: { scrollWidth: number };
  querySelector(sel: string): { textContent: string | null } | null;
  querySelectorAll(sel: string): Iterable<{ getAttribute(name: string): string | null; querySelector(sel: string): { textContent: string | null } | null }>;
  body: object;
};
declare const window: { innerWidth: number; __levels?: string[]; __rows?: string[] };
declare class MutationObserver {
  constructor(cb: () => void);
  observe(target: object, opts: { childList: boolean; subtree: boolean; characterData: boolean }): void;
}

const h = workerHarness('console-actions');

const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });

/** A promise with its resolve. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)('console admin actions in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const now = Date.now();

  const login = (user: string, id: string, time: number, session: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'login',
      id,
      user,
      time,
      outcome: 'success',
      ip: '81.2.69.142',
      geo: { lat: 51.5, lon: -0.12, city: 'London', country: 'GB' },
      session: { id: session, expires_at: now + 12 * 3_600_000, idp: 'okta', claims: { email: user } },
      device: { id: 'd-1', posture: { os: 'macOS 15.1' } },
      ...extra,
    });

  /** `user` turns high: London, then Sydney two hours later. */
  async function travel(user: string): Promise<void> {
    const t0 = now - 3 * 3_600_000;
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login(user, `${user}-lon`, t0, `${user}-s1`));
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login(user, `${user}-syd`, t0 + 2 * 3_600_000, `${user}-s2`, { ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21, city: 'Sydney', country: 'AU' } }),
    );
    await waitFor(async () => ((await (await api(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { level?: string }).level === 'high', {
      what: `${user} high`,
    });
  }

  /**
   * Holds the answer of the next live tick's read of `path` while `act` changes what the table
   * shows (and waits until it shows it), then lets that stale answer through and waits until the
   * next tick has started (ticks never overlap: the stale one has been handled by then). Returns
   * what the rows (`row`) showed at each change after `act`: each row's `attr`, else its level.
   */
  async function staleTick(path: string, row: { sel: string; attr?: string }, act: () => Promise<void>): Promise<string[]> {
    const held = latch();
    const release = latch();
    let armed = true;
    await page.route(
      (url) => url.pathname === path,
      async (route: Route) => {
        if (!armed || route.request().method() !== 'GET') return route.continue();
        armed = false;
        const response = await route.fetch();
        held.open();
        await release.promise;
        await route.fulfill({ response });
      },
    );
    try {
      await held.promise;
      await act();
      await page.evaluate(({ sel, attr }) => {
        const rows = (): string =>
          [...document.querySelectorAll(sel)].map((r) => (attr ? r.getAttribute(attr) : r.querySelector('.level')?.textContent) ?? '').join(',');
        window.__rows = [rows()];
        new MutationObserver(() => {
          if (window.__rows!.at(-1) !== rows()) window.__rows!.push(rows());
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
      }, row);
      const nextTick = page.waitForRequest((r) => new URL(r.url()).pathname === path, { timeout: 20_000 });
      release.open();
      await nextTick;
    } finally {
      release.open();
      await page.unrouteAll({ behavior: 'wait' });
    }
    return page.evaluate(() => window.__rows!);
  }

  beforeAll(async () => {
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York', locale: 'en-US' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await signIn(page, h.worker.url, h.cfg.adminToken);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('says what sessions.max_identity_bytes cut, when a session was refreshed, and keeps a long id inside the page', async () => {
    const user = 'frank@example.com';
    const groups = Array.from({ length: 4000 }, (_, i) => `group-${i}-${'g'.repeat(16)}`);
    // A claim shaped like a marker but not listed in `truncated`: the IdP's value, shown as sent.
    const lookalike = { truncated: true, bytes: 1, sha256: 'ab' };
    const eventId = `frank-login-${'x'.repeat(300)}`;
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login(user, eventId, now - 3_600_000, 'f-big', {
        session: { id: 'f-big', expires_at: now + 12 * 3_600_000, idp: 'okta', claims: { email: user, groups, lookalike } },
      }),
    );
    const refreshedAt = now - 600_000;
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      JSON.stringify({
        type: 'session_refresh',
        id: 'frank-refresh',
        user,
        time: refreshedAt,
        outcome: 'success',
        ip: '81.2.69.142',
        session: { id: 'f-big' },
      }),
    );
    const stored = await waitFor(
      async () => {
        const s = (await (await api('/v1/sessions/f-big')).json()) as { refreshed_at?: number; truncated?: string[]; claims: { groups: { sha256: string } } };
        return s.refreshed_at ? s : undefined;
      },
      { what: 'the refreshed, cut session' },
    );
    expect(stored.truncated).toEqual(['claims.groups']);

    await page.goto(`${h.worker.url}/console/#/sessions/f-big`);
    await page.getByRole('button', { name: 'Revoke session…' }).waitFor();
    // The cut is said, not shown as if the IdP had sent {truncated: yes, bytes: …} as the groups.
    const note = page.getByRole('note', { name: 'Identity cut to size' });
    expect(await note.count()).toBe(1); // rendered with the Revoke button
    expect(await note.textContent()).toContain('Cut, in this order: claims.groups.');
    const claims = (await page.getByRole('region', { name: 'IdP claims' }).textContent())!;
    expect(claims).toContain(`groups4\u00a0000 items not stored (`);
    expect(claims).toContain(`bytes, sha256 ${stored.claims.groups.sha256})`);
    expect(claims).toMatch(/lookalike\s*truncated\s*yes\s*bytes\s*1\s*sha256\s*ab/);
    // The refresh's time in UTC like every other time, not epoch milliseconds among "Other fields".
    const iso = new Date(refreshedAt).toISOString();
    expect(await page.locator('dl.pairs').first().textContent()).toContain(`Last refreshed${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);
    expect(await page.getByRole('region', { name: 'Other fields' }).count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain(String(refreshedAt));
    // The 300-character login event id wraps instead of widening the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await shot(page, 'actions-01-cut-identity');
  }, 40_000);

  it("never shows a level older than the one shown (a tick's read from before a reset), and keeps Reset disabled while it is sent", async () => {
    const user = 'gina@example.com';
    await travel(user);
    const riskPath = `/v1/users/${encodeURIComponent(user)}/risk`;
    await page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    await expect.poll(() => page.locator('.user-head .level').textContent()).toBe('High');
    // Every level the page's head shows, in order.
    await page.evaluate(() => {
      window.__levels = [];
      new MutationObserver(() => {
        const t = document.querySelector('.user-head .level')?.textContent ?? null;
        if (t && window.__levels!.at(-1) !== t) window.__levels!.push(t);
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });

    // The reset is held until a tick has read the level (still High) — and that read's answer
    // is held until the page shows the reset's Low.
    const posted = latch();
    const staleRead = latch();
    const releaseStale = latch();
    let phase: 'before' | 'posting' | 'done' = 'before';
    await page.route(
      (url) => url.pathname === `${riskPath}/reset`,
      async (route: Route) => {
        phase = 'posting';
        posted.open();
        await staleRead.promise;
        await route.continue();
      },
    );
    await page.route(
      (url) => url.pathname === riskPath,
      async (route: Route) => {
        if (phase !== 'posting' || route.request().method() !== 'GET') return route.continue();
        phase = 'done';
        const response = await route.fetch(); // High: the reset has not reached the worker
        staleRead.open();
        await releaseStale.promise;
        await route.fulfill({ response });
      },
    );
    try {
      await page.getByRole('button', { name: 'Reset risk…' }).click();
      const dialog = page.getByRole('dialog', { name: `Reset risk for ${user}?` });
      await dialog.getByLabel(/^Reason/).fill('confirmed with the user');
      await dialog.getByRole('button', { name: 'Reset risk' }).click();
      await posted.promise;
      // In flight: a second reset cannot be started.
      expect(await page.locator('[data-key="reset"]').isDisabled()).toBe(true);
      await page.getByRole('status').getByText(`Risk reset for ${user}: High → Low (version 2).`).waitFor({ timeout: 20_000 });
      await expect.poll(() => page.locator('.user-head .level').textContent(), { timeout: 10_000 }).toBe('Low');
      // Now the tick's read (from before the reset) answers; the next tick starts only once it
      // has been handled (ticks never overlap).
      const nextTick = page.waitForRequest((r) => new URL(r.url()).pathname === riskPath, { timeout: 20_000 });
      releaseStale.open();
      await nextTick;
    } finally {
      releaseStale.open();
      staleRead.open();
      await page.unrouteAll({ behavior: 'wait' });
    }
    const levels = await page.evaluate(() => window.__levels!);
    expect(levels.slice(levels.indexOf('Low'))).toEqual(['Low']);
    expect(
      ((await (await api(`/v1/audit?action=risk.reset`)).json()) as { entries: Array<{ target: string }> }).entries.filter((e) => e.target === user),
    ).toHaveLength(1);
  }, 60_000);

  it('keeps Revoke disabled while the revocation is in flight (a second one was told 404 after the first succeeded)', async () => {
    const user = 'hal@example.com';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login(user, 'hal-1', now - 600_000, 'h-sess'));
    await waitFor(async () => (await api('/v1/sessions/h-sess')).status === 200, { what: "hal's session" });
    await page.goto(`${h.worker.url}/console/#/sessions/h-sess`);
    const button = page.getByRole('button', { name: 'Revoke session…' });
    await button.waitFor();
    const deleting = latch();
    const release = latch();
    await page.route(
      (url) => url.pathname === '/v1/sessions/h-sess',
      async (route: Route) => {
        if (route.request().method() !== 'DELETE') return route.continue();
        deleting.open();
        await release.promise;
        await route.continue();
      },
    );
    const before = errors.length;
    try {
      await button.click();
      const dlg = page.getByRole('dialog', { name: 'Revoke session h-sess?' });
      await dlg.getByLabel(/^Reason/).fill('lost phone');
      await dlg.getByRole('button', { name: 'Revoke session' }).click();
      await deleting.promise;
      expect(await button.isDisabled()).toBe(true);
      release.open();
      await page.getByText('Session revoked.').waitFor({ timeout: 15_000 });
    } finally {
      release.open();
      await page.unrouteAll({ behavior: 'wait' });
    }
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Session h-sess revoked.');
    expect(errors.slice(before)).toEqual([]);
  }, 40_000);

  it("shows the filter chosen, not a tick's late read of the previous one", async () => {
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('jo@example.com', 'jo-1', now - 60_000, 'jo-s1')); // a low one
    await travel('ivy@example.com');
    await page.goto(`${h.worker.url}/console/#/risk`);
    await page.locator('tr[data-user="ivy@example.com"]').waitFor();
    await page.locator('tr[data-user="jo@example.com"]').waitFor();
    await page.waitForLoadState('networkidle');
    const shown = await staleTick('/v1/console/users', { sel: 'tbody tr' }, async () => {
      await page.getByLabel('Level', { exact: true }).selectOption('high');
      await expect.poll(() => page.locator('tbody tr .level').allTextContents()).not.toContain('Low');
    });
    expect(shown.length).toBeGreaterThan(0);
    for (const levels of shown) expect(levels.split(',').filter((l) => l !== 'High')).toEqual([]);
    expect(await page.getByLabel('Level', { exact: true }).inputValue()).toBe('high');
  }, 40_000);

  it("pages on from the page shown: neither a tick's late read of page 1 nor a double click on Next repeats a page", async () => {
    for (let i = 0; i < 55; i++)
      await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login(`pg-${i}@example.com`, `pg-${i}`, now - 60_000 - i * 1000, `pg-s${i}`));
    type List = { sessions: Array<{ session_id: string }>; next_cursor: string | null };
    const first = await waitFor(
      async () => {
        const p = (await (await api('/v1/sessions?limit=50')).json()) as List;
        return p.next_cursor ? p : undefined;
      },
      { what: 'more than one page of sessions' },
    );
    const page1 = new Set(first.sessions.map((x) => x.session_id));
    const page2 = ((await (await api(`/v1/sessions?limit=50&cursor=${first.next_cursor}`)).json()) as List).sessions.map((x) => x.session_id);
    await page.goto(`${h.worker.url}/console/#/sessions`);
    await page.getByRole('button', { name: 'Next →' }).waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(50);
    const shown = await staleTick('/v1/sessions', { sel: 'tbody tr', attr: 'data-session' }, async () => {
      await page.getByRole('button', { name: 'Next →' }).click();
      await expect.poll(() => page.locator('tbody tr').first().getAttribute('data-session')).toBe(page2[0]);
    });
    expect(shown.length).toBeGreaterThan(0);
    for (const list of shown) expect(list.split(',').filter((id) => page1.has(id))).toEqual([]);
    const ids = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-session')));
    expect(ids).toEqual(page2);
    expect(ids.filter((id) => page1.has(id!))).toEqual([]);
    expect(await page.locator('.pager .muted').textContent()).toBe('Page 2');
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(page2.length < 50);

    // A double click on Next while page 2 loads moves one page: the same cursor was pushed twice
    // ("Page 3" showing page 2, and Previous then showing page 2 again).
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect.poll(() => page.locator('.pager .muted').textContent()).toBe('Page 1');
    await expect.poll(() => page.locator('tbody tr').first().getAttribute('data-session')).toBe(first.sessions[0]!.session_id);
    const asked = latch();
    const release = latch();
    await page.route(
      (url) => url.pathname === '/v1/sessions' && url.searchParams.has('cursor'),
      async (route: Route) => {
        asked.open();
        await release.promise;
        await route.continue();
      },
    );
    try {
      const next = page.getByRole('button', { name: 'Next →' });
      await next.click();
      await asked.promise;
      await next.click(); // the page still shows page 1 and its Next button
      release.open();
      await expect.poll(() => page.locator('tbody tr').first().getAttribute('data-session')).toBe(page2[0]);
    } finally {
      release.open();
      await page.unrouteAll({ behavior: 'wait' });
    }
    expect(await page.locator('.pager .muted').textContent()).toBe('Page 2');
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect.poll(() => page.locator('tbody tr').first().getAttribute('data-session')).toBe(first.sessions[0]!.session_id);
    expect(await page.locator('.pager .muted').textContent()).toBe('Page 1');
  }, 60_000);

  it('says when a timeline shows only the newest risk events, and reads older ones on request', async () => {
    const user = 'kim@example.com';
    const multi = h.redis.multi();
    for (let i = 0; i < 205; i++)
      multi.xadd(
        `${h.prefix}:activity`,
        '*',
        'event',
        JSON.stringify({ type: 'dlp', id: `kim-${i}`, user, time: now - 3_600_000 + i * 1000, profile: 'pii', severity: 'high', action: 'block' }),
      );
    await multi.exec();
    const path = `/v1/users/${encodeURIComponent(user)}/events?limit=1000`;
    const all = await waitFor(
      async () => {
        const r = (await (await api(path)).json()) as { events?: Array<{ kind: string }> };
        return (r.events?.length ?? 0) >= 206 ? r.events : undefined;
      },
      { what: "kim's 205 hits and her change" },
    );
    await page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    await page.getByRole('heading', { level: 2, name: 'Timeline' }).waitFor();
    await expect.poll(() => page.locator('.tl-item').count()).toBe(200);
    // The first change (Low → Medium) is older than the newest 200: the page says so.
    expect(await page.locator('.tl-change[data-version="1"]').count()).toBe(0);
    const more = page.getByRole('button', { name: 'Show older events' });
    expect(await more.count()).toBe(1);
    await more.click();
    await expect.poll(() => page.locator('.tl-item').count()).toBe(all.length);
    await page.locator('.tl-change[data-version="1"]').waitFor();
    expect(await more.count()).toBe(0);
  }, 60_000);

  it('says no audit entry matches an action filter without claiming it read none', async () => {
    await page.goto(`${h.worker.url}/console/#/audit?action=receiver.verification_requested`);
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    // The server skipped every entry of another action: "in the newest 0 entries read" was wrong.
    await page.locator('main .empty').waitFor({ timeout: 20_000 });
    expect(await page.locator('main .empty').textContent()).toBe('No entries match these filters.');
  }, 30_000);

  it('says a pasted token holds a character no token has, rather than that the worker cannot be reached', async () => {
    await page.goto(`${h.worker.url}/console/#/risk`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    const input = page.getByLabel('Admin token');
    for (const pasted of [`${h.cfg.adminToken}\u200b`, `\u201c${h.cfg.adminToken}\u201d`]) {
      await input.fill(pasted);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#login-msg').textContent()).toMatch(/^Cannot sign in: The token holds a character no bearer token has/);
    }
    await input.fill(h.cfg.adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
  }, 30_000);
});
