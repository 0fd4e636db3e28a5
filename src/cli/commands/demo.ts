import type { Command } from 'commander';
import { resolve } from 'node:path';
import { packageRoot } from '../../package-root.js';
import { runDemo } from '../demo.js';

/** `riskstream demo`: the whole product end to end on this machine. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo: Redis, worker, local SSF receivers, replayed telemetry, summary')
    .option('--telemetry <file>', 'NDJSON telemetry to replay', 'demo/telemetry.ndjson')
    .option('--keep', 'keep the demo keys in Redis afterwards')
    .action(async (o: { telemetry: string; keep?: boolean }) => {
      const root = packageRoot();
      const code = await runDemo({ root, telemetry: resolve(root, o.telemetry), out: process.stdout, ...(o.keep ? { keep: true } : {}) });
      process.exitCode = code;
      setTimeout(() => process.exit(code), 300).unref();
    });
}
