/**
 * The console's paged lists while the data changes, in a real browser against a real worker and
 * Redis: the audit log pages back to its start with its cursor while newer entries arrive (each
 * entry shown once; it re-read the newest ones, so older entries were never reached and an entry
 * cut at the read's end was left out), and a users page emptied since it was reached (its users'
 * levels fell) leads back to the earlier pages instead of saying no user matches, and a new audit filter
 * whose first read failed shows only its own entries on the next live read (the old filter's stayed, the new ones added on top). Skips (saying why) only when Chromium cannot be installed.
 */
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, signedInPage } from './chromium.js';

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
  const ui = signedInPage(h);

  const rows = (sel: string): Promise<number> => ui.page.evaluate((s) => document.querySelectorAll(s).length, sel);

  it('pages the audit log back to its start while newer entries keep coming, each entry once', async () => {
    const log = new AuditLog(h.redis, `${h.prefix}:audit`);
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await log.write({ action: 'test.paging', actor: 'test', target: `t-${i}` });
    };
    await write(0, 450);
    const targets = (): Promise<string[]> => ui.page.locator('tr[data-id] td:nth-of-type(3)').allTextContents();
    const ids = (): Promise<string[]> => ui.page.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''));

    await ui.page.goto(`${h.worker.url}/console/#/audit`);
    await ui.page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await waitFor(async () => (await targets()).includes('t-449'), { what: 'the newest entries shown' });
    expect(await ui.page.getByText('End of the audit log.').count()).toBe(0);
    // 300 newer entries arrive before the admin asks for older ones: "Show older" still goes on from where the read stopped.
    await write(450, 750);
    const older = ui.page.locator('[data-key="older"]');
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
    await ui.page.getByText('End of the audit log.').waitFor();
    expect(await targets()).toContain('t-0');
    // The live refresh puts the newer ones on top.
    await waitFor(async () => (await targets()).includes('t-749'), { what: 'the newer entries shown', timeout: 20_000 });
    const shown = await ids();
    expect(new Set(shown).size).toBe(shown.length);
    const all = await targets();
    for (let i = 0; i < 750; i++) expect(all.filter((t) => t === `t-${i}`)).toHaveLength(1);
  }, 90_000);

  it("keeps the old filter's entries out after the first read under a new filter failed", async () => {
    const log = new AuditLog(h.redis, `${h.prefix}:audit`);
    for (let i = 0; i < 3; i++) await log.write({ action: 'test.wanted', actor: 'test', target: `w-${i}` });
    for (let i = 0; i < 3; i++) await log.write({ action: 'test.other', actor: 'test', target: `o-${i}` });
    const actions = (): Promise<string[]> => ui.page.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action') ?? ''));
    await ui.page.goto(`${h.worker.url}/console/#/audit`);
    await waitFor(async () => (await actions()).includes('test.other'), { what: 'the unfiltered log shown' });
    // The first read under the new filter fails; the live reads after it work.
    const wanted = (url: URL): boolean => url.pathname === '/v1/audit' && url.searchParams.get('action') === 'test.wanted';
    await ui.page.route(
      wanted,
      (r) => r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'Redis is unavailable' }) }),
      {
        times: 1,
      },
    );
    await ui.page.getByLabel('Action (or prefix)').fill('test.wanted');
    await ui.page.getByText('Redis is unavailable').waitFor();
    await waitFor(async () => (await actions()).length > 0, { what: 'a live read under the new filter', timeout: 20_000 });
    expect(new Set(await actions())).toEqual(new Set(['test.wanted']));
    expect(await actions()).toHaveLength(3);
    await ui.page.unroute(wanted);
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

    await ui.page.goto(`${h.worker.url}/console/#/risk?level=high`);
    await waitFor(async () => (await rows('tr[data-user]')) === USERS_PAGE, { what: 'the first page of high users' });
    await ui.page.locator('[data-key="pager-next"]').first().click();
    await waitFor(async () => (await rows('tr[data-user]')) === 1, { what: 'the second page' });
    const last = await ui.page.locator('tr[data-user]').getAttribute('data-user');
    // Its one user falls to low: the next live read of the page finds it empty, and last.
    const reset = await api(`/v1/users/${encodeURIComponent(last!)}/risk/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    await waitFor(async () => (await rows('tr[data-user]')) === 0, { what: 'the emptied page', timeout: 20_000 });
    expect(await ui.page.getByText('No users match these filters.').count()).toBe(0);
    const prev = ui.page.locator('[data-key="pager-prev"]');
    expect(await prev.isEnabled()).toBe(true);
    await prev.click();
    await waitFor(async () => (await rows('tr[data-user]')) === USERS_PAGE, { what: 'back on the first page' });
  }, 90_000);
});
