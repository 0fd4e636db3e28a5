/**
 * A user's timeline reads the newest 500 of the user's SET delivery records: a change older than
 * the oldest record read says its outcome was not read, instead of "No SET delivery recorded
 * yet" (which reads as: the receivers never got it). Real worker, Redis, 40 receivers, Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { chromiumUnavailable, launch, signIn } from './chromium.js';

const AUDIENCE = 'https://deliveries.receiver.test';
const RECEIVERS = 40;

const h = workerHarness(
  'console-deliveries',
  (url) => ({
    receivers: Array.from({ length: RECEIVERS }, (_, i) => ({
      name: `rx-${i}`,
      kind: 'ssf',
      endpoint: `${url}/events`,
      audience: AUDIENCE,
      subject_format: 'email',
    })),
  }),
  { receiver: { audience: AUDIENCE, issuer: 'https://riskstream.test' } },
);

const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });

const unavailable = chromiumUnavailable();
if (unavailable) console.warn(`[test/console] browser tests skipped: ${unavailable}`);

describe.skipIf(!!unavailable)('console: delivery records beyond the newest read', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launch();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("says an old change's outcome was not read rather than that no SET was delivered", async () => {
    const user = 'lee@example.com';
    const risk = `/v1/users/${encodeURIComponent(user)}/risk`;
    const level = async (): Promise<string | undefined> => ((await (await api(risk)).json()) as { level?: string }).level;
    // 8 × (DLP → Medium, reset → Low): 16 changes, a SET to each of 40 receivers for each.
    for (let i = 0; i < 8; i++) {
      const event = { type: 'dlp', id: `lee-${i}`, user, time: Date.now(), profile: 'pii', severity: 'high', action: 'block' };
      await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify(event));
      await waitFor(async () => (await level()) === 'medium', { what: `lee medium (${i})` });
      const reset = await api(`${risk}/reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `cycle ${i}` }),
      });
      expect(reset.status).toBe(200);
    }
    type Deliveries = { deliveries: Array<{ version?: number; action: string }> };
    const all = await waitFor(
      async () => {
        const d = (await (await api(`/v1/users/${encodeURIComponent(user)}/deliveries?limit=1000`)).json()) as Deliveries;
        const settled = d.deliveries.filter((x) => x.action !== 'set.retry');
        return settled.length >= 16 * RECEIVERS ? d.deliveries : undefined;
      },
      { what: 'every SET of the 16 changes settled', timeout: 60_000 },
    );
    // Version 1's records are older than the newest 500.
    expect(all.slice(0, 500).filter((x) => x.version === 1)).toEqual([]);

    await signIn(page, h.worker.url, h.cfg.adminToken);
    await page.goto(`${h.worker.url}/console/#/users/${encodeURIComponent(user)}`);
    const v1 = page.locator('.tl-change[data-version="1"]');
    await v1.waitFor();
    expect(await v1.locator('p.small').textContent()).toBe(
      "Delivery outcome not read: older than this user's newest 500 delivery records (the audit log holds it: action set, target the user).",
    );
    // The newest change's records were read: each receiver's outcome is shown.
    expect(await page.locator('.tl-change[data-version="16"] .delivery').count()).toBe(RECEIVERS);
  }, 120_000);
});
