import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceHash } from '../../web/source-hash.js';
import { CONSOLE_DIST, displayEndpoint, loadConsoleFiles } from '../../src/api/routes/console.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the committed console build', () => {
  it('is where the worker serves it from, and built from the current web/ sources', () => {
    expect(CONSOLE_DIST).toBe(resolve(ROOT, 'console-dist'));
    expect(existsSync(resolve(CONSOLE_DIST, 'index.html')), 'console-dist/index.html: run npm run build:console').toBe(true);
    const info = JSON.parse(readFileSync(resolve(CONSOLE_DIST, 'build-info.json'), 'utf8')) as { source_sha256: string };
    expect(info.source_sha256, 'console-dist/ is stale: run npm run build:console and commit console-dist/').toBe(sourceHash());
  });

  it('is small, and every file has a content type', () => {
    const files = loadConsoleFiles(CONSOLE_DIST);
    expect(files.has('index.html')).toBe(true);
    let total = 0;
    for (const [, f] of files) total += f.body.length;
    expect(total).toBeLessThan(300_000);
    const gz = [...files.values()].reduce((n, f) => n + (f.gzip ?? f.body).length, 0);
    expect(gz).toBeLessThan(100_000);
  });

  it('never shows receiver endpoint credentials', () => {
    expect(displayEndpoint('https://user:pw@rx.example/ssf/events?token=abc')).toBe('https://[redacted]@rx.example/ssf/events?[redacted]');
    expect(displayEndpoint('https://rx.example/events')).toBe('https://rx.example/events');
    expect(displayEndpoint('not a url')).toBe('[invalid URL]');
  });
});
