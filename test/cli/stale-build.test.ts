import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './run.js';

// A package laid out as bin/riskstream.js expects it: a "built" CLI in dist/ and a "source" one in
// src/, each saying which it is, with the real bin script and the project's node_modules (tsx).
const dir = mkdtempSync(join(tmpdir(), 'rs-stale-'));
mkdirSync(join(dir, 'bin'));
mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
mkdirSync(join(dir, 'src/cli'), { recursive: true });
copyFileSync(join(ROOT, 'bin/riskstream.js'), join(dir, 'bin/riskstream.js'));
symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
writeFileSync(join(dir, 'src/cli/main.ts'), "process.stdout.write('source');\n");
writeFileSync(join(dir, 'dist/src/cli/main.js'), "process.stdout.write('dist');\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(): { out: string; err: string } {
  const env = { ...process.env };
  delete env.RISKSTREAM_FROM_SOURCE;
  const r = spawnSync(process.execPath, [join(dir, 'bin/riskstream.js'), 'version'], { env, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr };
}

describe('bin/riskstream.js: built or source', () => {
  it('runs the build when it is newer than every source file', () => {
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'src/cli/main.ts'), old, old);
    expect(run()).toEqual({ out: 'dist', err: '' });
  });

  it('runs the source, and says so on stderr, when a source file changed after the build', () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'src/cli/main.ts'), later, later);
    const r = run();
    expect(r.out).toBe('source');
    expect(r.err).toMatch(/dist\/ is older than the source.*npm run build/);
  });
});
