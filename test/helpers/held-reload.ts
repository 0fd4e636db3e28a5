/** A worker's next reload held in its signing key's read, as from a slow mount (a FIFO), until released. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { WorkerHandle } from '../../src/runtime/worker.js';

/**
 * Points the worker's config at the same signing key read through a FIFO: a reload started after
 * this waits in that read until `release()` writes the key.
 */
export function holdNextReload(worker: WorkerHandle): { release(): Promise<void> } {
  const dir = worker.config().dir;
  const key = readFileSync(join(dir, 'keys/signing.pem'), 'utf8');
  execFileSync('mkfifo', [join(dir, 'keys/slow.pem')]);
  const file = join(dir, 'riskstream.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  writeFileSync(file, stringify({ ...cfg, signing: { ...cfg.signing, key_file: 'keys/slow.pem' } }));
  return { release: () => writeFile(join(dir, 'keys/slow.pem'), key) };
}
