import type { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { runDemo } from '../../runtime/demo.js';

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** `riskstream demo`: the whole product end to end on this machine. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo: Redis, worker, local SSF receivers, replayed telemetry, summary')
    .option('--telemetry <file>', 'NDJSON telemetry to replay', 'demo/telemetry.ndjson')
    .option('--keep', 'keep the demo keys in Redis afterwards')
    .action(async (o: { telemetry: string; keep?: boolean }) => {
      const root = projectRoot();
      const code = await runDemo({ root, telemetry: resolve(root, o.telemetry), out: process.stdout, ...(o.keep ? { keep: true } : {}) });
      process.exitCode = code;
      setTimeout(() => process.exit(code), 300).unref();
    });
}
