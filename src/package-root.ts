import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The riskstream package root (the directory of its package.json), found from this module's
 * place in src/ or dist/src/; the working directory if there is none.
 */
export function packageRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
