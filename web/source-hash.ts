/**
 * Hash of the console's sources (everything in web/ but dot-files and node_modules). The build
 * writes it to console-dist/build-info.json; a test compares, so a stale committed build is caught.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));

export function sourceHash(dir: string = WEB_DIR): string {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(dir);
  const h = createHash('sha256');
  for (const f of files) h.update(relative(dir, f).split('\\').join('/')).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}
