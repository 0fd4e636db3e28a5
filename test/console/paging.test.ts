/**
 * The console's paged lists while the data changes, in a real browser against a real worker and
 * Redis: the audit log cut at the entries it shows is not "the end of the log" when older
 * entries were read (its last page holds more than are shown), and a users page emptied since it
 * was reached (its users' levels fell) leads back to the earlier pages instead of saying no user
 * matches. Skips (saying why) only when Chromium cannot be installed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, launch, signIn } from './chromium.js';

// Browser globals used inside page.evaluate callbacks (the test project has no DOM lib).
declare const document: { querySelectorAll(sel: string): { length: number } };

const h = workerHarness('console-paging');

const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });

/** The console's users page size (web/src/views/risk.ts PAGE). */
const USERS_PAGE = 50;

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)('console paging while the data changes', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launch();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(page, h.worker.url, h.cfg.adminToken);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  const rows = (sel: string): Promise<number> => page.evaluate((s) => document.querySelectorAll(s).length, sel);

  it('offers the older audit entries its read cut off, on the log’s last page too', async () => {
    // 150 entries: the console's one read (200 a page) reaches the log's start and shows 100 of them.
    const log = new AuditLog(h.redis, `${h.prefix}:audit`);
    for (let i = 0; i < 150; i++) await log.write({ action: 'test.paging', actor: 'test', target: `t-${i}` });
    const total = ((await (await api('/v1/audit?limit=1000')).json()) as { entries: unknown[] }).entries.length;
    expect(total).toBeGreaterThan(100);
    expect(total).toBeLessThanOrEqual(200);

    await page.goto(`${h.worker.url}/console/#/audit`);
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await waitFor(async () => (await rows('tr[data-id]')) === 100, { what: 'the newest 100 entries shown' });
    expect(await page.getByText('End of the audit log.').count()).toBe(0);
    await page.locator('[data-key="older"]').click();
    await waitFor(async () => (await rows('tr[data-id]')) === total, { what: 'every entry shown' });
    await page.getByText('End of the audit log.').waitFor();
  }, 60_000);

  it('leads back from a users page whose users left it since it was reached', async () => {
    const users = Array.from({ length: USERS_PAGE + 1 }, (_, i) => `pg-${String(i).padStart(3, '0')}@example.com`);
    for (const u of users) await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(u, { id: `edr-${u}` }));
    await waitFor(
      async () => {
        let n = 0;
        let cursor: string | null = null;
        do {
          const r = (await (await api(`/v1/users?level=high&limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
            users: unknown[];
            next_cursor: string | null;
          };
          n += r.users.length;
          cursor = r.next_cursor;
        } while (cursor);
        return n === users.length;
      },
      { what: `${users.length} high users`, timeout: 30_000 },
    );

    await page.goto(`${h.worker.url}/console/#/risk?level=high`);
    await waitFor(async () => (await rows('tr[data-user]')) === USERS_PAGE, { what: 'the first page of high users' });
    await page.locator('[data-key="pager-next"]').first().click();
    await waitFor(async () => (await rows('tr[data-user]')) === 1, { what: 'the second page' });
    const last = await page.locator('tr[data-user]').getAttribute('data-user');
    // Its one user falls to low: the next live read of the page finds it empty, and last.
    const reset = await api(`/v1/users/${encodeURIComponent(last!)}/risk/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    await waitFor(async () => (await rows('tr[data-user]')) === 0, { what: 'the emptied page', timeout: 20_000 });
    expect(await page.getByText('No users match these filters.').count()).toBe(0);
    const prev = page.locator('[data-key="pager-prev"]');
    expect(await prev.isEnabled()).toBe(true);
    await prev.click();
    await waitFor(async () => (await rows('tr[data-user]')) === USERS_PAGE, { what: 'back on the first page' });
  }, 90_000);
});
