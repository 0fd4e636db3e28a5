import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots land here (gitignored; CI keeps them as artefacts). */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

/**
 * Makes sure Debian's Chromium is installed (scripts/ensure-chromium.sh: apt-get when missing).
 * Returns why the browser tests must be skipped, or null when Chromium is there.
 */
export function chromiumUnavailable(): string | null {
  const works = (): boolean => existsSync(CHROMIUM) && spawnSync(CHROMIUM, ['--version'], { timeout: 20_000 }).status === 0;
  if (works()) return null;
  const r = spawnSync('bash', [join(ROOT, 'scripts/ensure-chromium.sh')], {
    encoding: 'utf8',
    timeout: 10 * 60_000,
    env: { ...process.env, CHROMIUM_PATH: CHROMIUM },
  });
  if (works()) return null;
  return `Chromium is not installed at ${CHROMIUM} and scripts/ensure-chromium.sh could not install it (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().slice(-400)}`;
}

/** Launches headless Debian Chromium the way this machine allows (no sandbox as root, no background networking). */
export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Opens the console at `url` and signs in with `token`: on the users page when it returns. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.getByLabel('Admin token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Users by risk' }).waitFor();
}

/**
 * For the describe block it is called in: a 1280×800 Chromium page signed in to the worker of `h`
 * before its tests (`.page`), the browser closed after them.
 */
export function signedInPage(h: { worker: { url: string }; cfg: { adminToken: string } }): { page: Page } {
  const ui = {} as { page: Page; browser?: Browser };
  beforeAll(async () => {
    ui.browser = await launch();
    ui.page = await (await ui.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(ui.page, h.worker.url, h.cfg.adminToken);
  }, 30_000);
  afterAll(async () => {
    await ui.browser?.close();
  });
  return ui;
}

/** Saves a screenshot as a test artefact; returns its path. */
export async function shot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/**
 * Form controls without an accessible label and buttons/links without a name, on the current page
 * (a small subset of what an accessibility checker does; catches the usual regressions).
 */
export async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(UNLABELLED);
}

/** Runs in the page (plain JS: the test project has no DOM types). */
const UNLABELLED = `(() => {
  const out = [];
  const visible = (el) => !!el.offsetParent || el.getClientRects().length > 0;
  for (const c of document.querySelectorAll('input, select, textarea')) {
    if (c.type === 'hidden' || !visible(c)) continue;
    if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')) out.push(c.tagName.toLowerCase() + '#' + (c.id || c.name));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!visible(el)) continue;
    if (!(el.textContent || '').trim() && !el.getAttribute('aria-label')) out.push(el.tagName.toLowerCase() + ' without a name');
  }
  const h1 = document.querySelectorAll('main h1');
  if (h1.length !== 1) out.push(h1.length + ' h1 in main');
  return out;
})()`;
