#!/usr/bin/env node
// Entry point: runs the compiled CLI when built (npm ci runs `prepare`), else the TypeScript source via tsx.
import { existsSync } from 'node:fs';
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
if (existsSync(built) && !process.env.RISKSTREAM_FROM_SOURCE) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
