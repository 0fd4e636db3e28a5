import type { Command } from 'commander';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { RiskstreamError } from '../../errors.js';
import { packageRoot } from '../../package-root.js';
import { runDemo } from '../demo.js';

/** `riskstream demo`: the whole product end to end on this machine. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo: Redis, worker, local SSF receivers, replayed telemetry, summary')
    .option('--telemetry <file>', 'NDJSON telemetry to replay (default: the shipped demo/telemetry.ndjson)')
    .option('--keep', 'keep the demo keys in Redis afterwards')
    .action(async (o: { telemetry?: string; keep?: boolean }) => {
      const root = packageRoot();
      // A file given is the user's, relative to where they are; the default is the package's own.
      const telemetry = o.telemetry === undefined ? resolve(root, 'demo/telemetry.ndjson') : resolve(process.cwd(), o.telemetry);
      // Checked before Redis, worker and receivers are started for it.
      try {
        accessSync(telemetry, constants.R_OK);
      } catch (e) {
        throw new RiskstreamError('NOT_FOUND', `cannot read ${telemetry}: ${(e as Error).message}`);
      }
      const code = await runDemo({ root, telemetry, out: process.stdout, ...(o.keep ? { keep: true } : {}) });
      process.exitCode = code;
      setTimeout(() => process.exit(code), 300).unref();
    });
}
