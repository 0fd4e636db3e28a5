/**
 * The console's paged lists while the data changes, in a real browser against a real worker and
 * Redis: the audit log pages back to its start with its cursor while newer entries arrive (each
 * entry shown once; it re-read the newest ones, so older entries were never reached and an entry
 * cut at the read's end was left out), and a users page emptied since it was reached (its users'
 * levels fell) leads back to the earlier pages instead of saying no user matches. Skips (saying why) only when Chromium cannot be installed.
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

  it('pages the audit log back to its start while newer entries keep coming, each entry once', async () => {
    const log = new AuditLog(h.redis, `${h.prefix}:audit`);
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await log.write({ action: 'test.paging', actor: 'test', target: `t-${i}` });
    };
    await write(0, 450);
    const targets = (): Promise<string[]> => page.locator('tr[data-id] td:nth-of-type(3)').allTextContents();
    const ids = (): Promise<string[]> => page.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''));

    await page.goto(`${h.worker.url}/console/#/audit`);
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await waitFor(async () => (await targets()).includes('t-449'), { what: 'the newest entries shown' });
    expect(await page.getByText('End of the audit log.').count()).toBe(0);
    // 300 newer entries arrive before the admin asks for older ones: "Show older" still goes on from where the read stopped.
    await write(450, 750);
    const older = page.locator('[data-key="older"]');
    const shownFirst = await ids();
    await older.click();
    // The entries right below those shown come next; none shown is pushed out by the newer ones.
    await waitFor(async () => (await targets()).includes('t-249'), { what: 'the next older entries' });
    expect(await ids()).toEqual(expect.arrayContaining(shownFirst));
    for (let clicks = 0; (await older.count()) && clicks < 10; clicks++) {
      const before = (await ids()).length;
      await older.click();
      await waitFor(async () => (await ids()).length > before || !(await older.count()), { what: 'older entries shown' });
    }
    await page.getByText('End of the audit log.').waitFor();
    expect(await targets()).toContain('t-0');
    // The live refresh puts the newer ones on top.
    await waitFor(async () => (await targets()).includes('t-749'), { what: 'the newer entries shown', timeout: 20_000 });
    const shown = await ids();
    expect(new Set(shown).size).toBe(shown.length);
    const all = await targets();
    for (let i = 0; i < 750; i++) expect(all.filter((t) => t === `t-${i}`)).toHaveLength(1);
  }, 90_000);

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
