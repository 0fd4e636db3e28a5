import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`: creates `dir` and its missing ancestors, one level at a time. Node 20's recursive
 * `mkdir` never returns for a path under a directory where nothing can be created (`/proc/x`: it
 * spins at full CPU); one level at a time, that is an error (ENOENT, EACCES) like any other.
 */
export async function makeDirs(dir: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const s = await stat(d).catch(() => null);
    if (s) {
      if (!s.isDirectory()) await mkdir(dir); // throws ENOTDIR / EEXIST, as mkdir -p would fail
      break;
    }
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d, mode === undefined ? {} : { mode }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // made meanwhile by another process: fine
    });
  }
}
