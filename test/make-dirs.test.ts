import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../src/make-dirs.js';

const root = mkdtempSync(join(tmpdir(), 'rs-make-dirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('creates the missing levels with the mode given; an existing directory is fine', async () => {
    const dir = join(root, 'a', 'b', 'c');
    await makeDirs(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await makeDirs(dir, 0o700);
  });

  it('fails (it does not hang, as recursive mkdir does on Node 20) where nothing can be created', async () => {
    // /proc/<x>: Node 20's mkdir({recursive}) spins forever there.
    await expect(makeDirs('/proc/riskstream-nope/x')).rejects.toMatchObject({ code: 'ENOENT' });
    writeFileSync(join(root, 'file'), 'x');
    await expect(makeDirs(join(root, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
