#!/usr/bin/env node
// Entry point: runs the compiled CLI when built (npm ci runs `prepare`), else the TypeScript source via tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// `riskstream worker`: signals are taken from the first moment, before the modules load (a second
// or two). One that arrives meanwhile is held for the worker (src/cli/early-signals.ts): a reload or
// a stop right after a start would otherwise kill the process (SIGHUP's and SIGTERM's default).
if (process.argv[2] === 'worker') {
  const early = { seen: [], handlers: new Map() };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    const h = () => early.seen.push(sig);
    early.handlers.set(sig, h);
    process.on(sig, h);
  }
  globalThis.__riskstreamEarlySignals = early;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');

/** True when a source file (src/, pipelines/) changed after the last build: a checkout or an edit without `npm run build`. */
function staleBuild() {
  const at = statSync(built).mtimeMs;
  for (const dir of ['src', 'pipelines']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs > at) return true;
    }
  }
  return false;
}

let fromSource = Boolean(process.env.RISKSTREAM_FROM_SOURCE) || !existsSync(built);
if (!fromSource && staleBuild()) {
  // The compiled CLI would run code older than the source: run the source, and say how to refresh.
  process.stderr.write('riskstream: dist/ is older than the source (run `npm run build`); running the source meanwhile\n');
  fromSource = true;
}
if (!fromSource) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
