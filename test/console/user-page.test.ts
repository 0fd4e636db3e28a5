/**
 * A user's page in a real browser against a real worker and Redis: its risk events page back to the
 * oldest from the API's cursor while newer ones keep arriving (each shown once; it re-read a larger
 * window of the newest, so under churn the older ones were never reached); the delivery records
 * are read back to the oldest risk event shown, a level change included (they were read back to the
 * oldest hit only, so a reset's outcome read "No SET delivery recorded yet."); and an API failure
 * is said as one — delivery records or sessions that could not be read, a live read that failed —
 * rather than shown as "no delivery", "not available" or stale data without a word; a user seen
 * only after the page was opened is shown by the next live read (it said "not seen" until reloaded);
 * and a session id two users logged in with opens and revokes the user's own copy (the page showed
 * the earliest login's — another user's — and Revoke signed both out); a session that ended before
 * its Revoke was sent is said to be no longer active (it said "Revoke failed").
 * Skips (saying why) only when Chromium cannot be installed.
 */
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, signedInPage } from './chromium.js';

const AUDIENCE = 'https://user-ui.page.receiver.test';

const h = workerHarness(
  'console-user',
  (url) => ({ receivers: [{ name: 'rx-0', kind: 'ssf', endpoint: `${url}/events`, audience: AUDIENCE, subject_format: 'email' }] }),
  { receiver: { audience: AUDIENCE, issuer: 'https://riskstream.test' } },
);

const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });

/** The console's risk events page (web/src/views/user/events.ts EVENTS_PAGE). */
const EVENTS_PAGE = 200;

/** A user made high by a real detection (a hit and a level change in the user's risk events). */
async function highUser(user: string): Promise<void> {
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user, { id: `edr-${user}` }));
  await waitFor(async () => ((await (await api(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { level?: string }).level === 'high', {
    what: `${user} high`,
  });
}

/** Appends hits to the user's risk events stream as the engine does (summary `${tag}-${i}`), at `at(i)` ms when given. */
async function appendHits(user: string, tag: string, from: number, to: number, at?: (i: number) => number): Promise<void> {
  const key = new Keys(h.prefix, 64).userEvents(user);
  for (let i = from; i < to; i++) {
    const ms = at?.(i) ?? Date.now();
    const hit = { behavior: 'test_churn', level: 'medium', time: ms, processedAt: ms, expiresAt: null, summary: `${tag}-${i}`, evidence: {}, eventIds: [] };
    await h.redis.xadd(key, at ? `${ms}-0` : '*', 'kind', 'hit', 'data', JSON.stringify(hit));
  }
}

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)("console: a user's page", () => {
  const ui = signedInPage(h);

  const reasons = (): Promise<string[]> => ui.page.locator('.tl-hit .tl-reason').allTextContents();
  const ids = (): Promise<string[]> => ui.page.locator('.tl-item[data-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));

  it('pages risk events back to the oldest from the cursor while newer ones keep coming, each once', async () => {
    const user = 'churn@example.com';
    await highUser(user);
    await appendHits(user, 'e', 0, 450);
    await ui.page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    await waitFor(async () => (await reasons()).includes('e-449'), { what: 'the newest risk events shown' });
    expect(await ui.page.locator('.tl-item').count()).toBe(EVENTS_PAGE);
    // 300 newer events arrive before the admin asks for older ones: "Show older" still goes on below those shown.
    await appendHits(user, 'e', 450, 750);
    const shownFirst = await reasons();
    const older = ui.page.locator('[data-key="older-events"]');
    await older.click();
    await waitFor(async () => (await reasons()).includes('e-249'), { what: 'the next older risk events' });
    expect(await reasons()).toEqual(expect.arrayContaining(shownFirst));
    for (let clicks = 0; (await older.count()) && clicks < 10; clicks++) {
      const before = await ui.page.locator('.tl-item').count();
      await appendHits(user, 'n', clicks * 300, (clicks + 1) * 300); // more keep coming
      await older.click();
      await waitFor(async () => (await ui.page.locator('.tl-item').count()) > before || !(await older.count()), { what: 'older risk events shown' });
    }
    await ui.page.locator('[data-events="end"]').waitFor();
    // The detection's own hit and level change, the oldest two, are reached.
    expect(await ui.page.locator('.tl-change[data-version="1"]').count()).toBe(1);
    expect(await reasons()).toContain('e-0');
    // The live read puts the newer ones on top.
    await waitFor(async () => (await reasons()).includes('e-749'), { what: 'the newer risk events shown', timeout: 20_000 });
    const shown = await ids();
    expect(new Set(shown).size).toBe(shown.length);
    const all = await reasons();
    for (let i = 0; i < 750; i++) expect(all.filter((t) => t === `e-${i}`)).toHaveLength(1);
  }, 120_000);

  it('reads delivery records back to the oldest change shown, not only to the oldest hit', async () => {
    const user = 'reset@example.com';
    await highUser(user);
    const reset = await api(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    type Deliveries = { deliveries: Array<{ version?: number; action: string }> };
    await waitFor(
      async () => {
        const d = (await (await api(`/v1/users/${encodeURIComponent(user)}/deliveries`)).json()) as Deliveries;
        return d.deliveries.some((x) => x.version === 2 && x.action === 'set.delivered');
      },
      { what: "the reset's SET delivered" },
    );
    // Newer hits (processed two minutes on) fill the page but one: its oldest event is the reset (version 2).
    const t0 = Date.now() + 120_000;
    await appendHits(user, 'r', 0, EVENTS_PAGE - 1, (i) => t0 + i);
    await ui.page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    const v2 = ui.page.locator('.tl-change[data-version="2"]');
    await v2.waitFor();
    await v2.locator('.delivery[data-receiver="rx-0"]').waitFor({ timeout: 10_000 });
    expect(await v2.locator('.delivery-ok').count()).toBe(1);
  }, 60_000);

  it('says when delivery records, sessions or a live read could not be read', async () => {
    const user = 'errors@example.com';
    await highUser(user);
    await waitFor(
      async () => {
        const d = (await (await api(`/v1/users/${encodeURIComponent(user)}/deliveries`)).json()) as { deliveries: Array<{ action: string }> };
        return d.deliveries.some((x) => x.action === 'set.delivered');
      },
      { what: "the change's SET delivered" },
    );
    // Each route's matcher is kept: ui.page.unroute finds a route by the very function it was added with.
    const failing =
      (what: string): ((url: URL) => boolean) =>
      (url: URL) =>
        url.pathname === `/v1/users/${encodeURIComponent(user)}/${what}`;
    const [deliveries, sessions, risk] = [failing('deliveries'), failing('sessions'), failing('risk')];
    const fail = { status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'Redis is unavailable' }) };
    await ui.page.route(deliveries, (r) => r.fulfill(fail));
    await ui.page.route(sessions, (r) => r.fulfill(fail));
    await ui.page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    const v1 = ui.page.locator('.tl-change[data-version="1"]');
    await v1.waitFor();
    expect(await v1.locator('[data-deliveries="error"]').textContent()).toContain('Redis is unavailable');
    expect(await ui.page.getByText('No SET delivery recorded yet.').count()).toBe(0);
    expect(await ui.page.locator('[data-sessions="error"]').textContent()).toContain('Redis is unavailable');
    await ui.page.unroute(deliveries);
    await ui.page.unroute(sessions);
    // The next live read shows the outcome and the (empty) sessions.
    await v1.locator('.delivery-ok').waitFor({ timeout: 20_000 });
    await ui.page.getByText('No active sessions.').waitFor();
    // A live read that fails says so above the data it could not refresh, until one works again.
    let failed = 0;
    await ui.page.route(risk, (r) => (failed++, r.fulfill(fail)));
    const said = ui.page.locator('[data-problem="refresh"]');
    await said.waitFor({ timeout: 20_000 });
    expect(await said.textContent()).toContain('Redis is unavailable');
    // Said once: the alert is not put again (announced again) by each failing tick.
    await said.evaluate((el) => void ((el as unknown as Record<string, unknown>).seen = true));
    const after = failed;
    await waitFor(() => failed >= after + 2, { what: 'two more failed reads', timeout: 20_000 });
    expect(await said.evaluate((el) => (el as unknown as Record<string, unknown>).seen)).toBe(true);
    await ui.page.unroute(risk);
    await waitFor(async () => (await ui.page.locator('[data-problem="refresh"]').count()) === 0, { what: 'the problem cleared', timeout: 20_000 });
  }, 60_000);
  it('shows a user first seen after the page was opened, and says an id no URL path can hold on its own page', async () => {
    const user = 'late@example.com';
    await ui.page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    await ui.page.getByText(`riskstream has not seen ${user}.`).waitFor();
    // Its first detection arrives: the next live read shows the page (it said "not seen" until reloaded).
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user, { id: `edr-${user}` }));
    await ui.page.locator('.user-head .level').getByText('High').waitFor({ timeout: 20_000 });
    expect(await ui.page.getByText(`riskstream has not seen ${user}.`).count()).toBe(0);
    // `..` from another page: said on the `..` page (the view threw before it was shown: the previous page stayed).
    await ui.page.goto(`${h.worker.url}/console/#/risk`);
    await ui.page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
    await ui.page.goto(`${h.worker.url}/console/#/users/..`);
    await ui.page.getByRole('heading', { level: 1, name: '..' }).waitFor({ timeout: 5000 });
    await ui.page.getByText("cannot be used in a browser's URL path").waitFor({ timeout: 5000 });
  }, 60_000);
  it("inspects and revokes the user's own session when another user logged in with the same id", async () => {
    const [alice, bob] = ['sh-alice@example.com', 'sh-bob@example.com'];
    const keys = new Keys(h.prefix, 64);
    expect(keys.partitionOf(alice)).not.toBe(keys.partitionOf(bob)); // each keeps a copy of the id
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(alice, 'sh-1', { time: Date.now() - 5000, device: { id: 'alice-laptop' } }));
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(bob, 'sh-1', { time: Date.now() - 1000, device: { id: 'bob-laptop' } }));
    const copy = (user: string): Promise<number> => api(`/v1/sessions/sh-1?user=${encodeURIComponent(user)}`).then((r) => r.status);
    await waitFor(async () => (await copy(alice)) === 200 && (await copy(bob)) === 200, { what: 'both copies stored' });

    // From bob's page (and from the sessions list) the link opens bob's copy, not the earliest login's (alice's).
    await ui.page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(bob)}`);
    await ui.page.locator('tr[data-session="sh-1"] a').click();
    await ui.page.getByRole('heading', { level: 1, name: 'Session sh-1' }).waitFor();
    await ui.page.getByText('bob-laptop').first().waitFor();
    expect(await ui.page.getByText('alice-laptop').count()).toBe(0);
    await ui.page.getByRole('button', { name: 'Revoke session…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Revoke session' }).click();
    await ui.page.getByText('Session revoked.').waitFor();
    // Bob's copy only: alice stays signed in.
    expect(await copy(bob)).toBe(404);
    expect(await copy(alice)).toBe(200);
    expect(await ui.page.locator('a[data-key="revoked-user"]').textContent()).toBe(bob);
  }, 60_000);

  it('says a session that ended before its Revoke was sent is no longer active, not that the revoke failed', async () => {
    const user = 'gone@example.com';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 'gone-1'));
    const path = `/v1/sessions/gone-1?user=${encodeURIComponent(user)}`;
    const stored = await waitFor(
      async () => {
        const r = await api(path);
        return r.status === 200 ? await r.text() : undefined;
      },
      { what: 'the session stored' },
    );
    // The page keeps showing the session (its reads answered as before) while it is revoked elsewhere.
    const read = (url: URL): boolean => url.pathname === '/v1/sessions/gone-1';
    await ui.page.route(read, (r) =>
      r.request().method() === 'GET' ? r.fulfill({ status: 200, contentType: 'application/json', body: stored }) : r.continue(),
    );
    await ui.page.goto(`${h.worker.url}/console/#/sessions/gone-1?user=${encodeURIComponent(user)}`);
    await ui.page.getByRole('button', { name: 'Revoke session…' }).waitFor();
    expect((await api(path, { method: 'DELETE' })).status).toBe(200);
    await ui.page.getByRole('button', { name: 'Revoke session…' }).click();
    await ui.page.unroute(read);
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Revoke session' }).click();
    await ui.page.getByRole('status').getByText('Session gone-1 is no longer active: there was nothing to revoke.').waitFor();
    await ui.page.getByText('This session is no longer active (it expired or was revoked).').waitFor();
  }, 60_000);
});
