import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { configPath, loadConfig } from '../../config/load.js';
import { isRiskstreamError, RiskstreamError } from '../../errors.js';
import { signingKeyIssues } from '../config-keys.js';
import { DEFAULT_CONFIG, print } from '../common.js';
import { escapeControlsKeepLines } from '../terminal-text.js';

/**
 * `riskstream config check`: validates (the signing keys and receivers' algs too, as the worker
 * would at start); prints `file:line:col message` per error, exit 1.
 */
export function configCommand(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate riskstream.yaml and behaviors.yaml')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .action(async (o: { config: string }) => {
      try {
        const c = loadConfig(o.config);
        const keyIssues = await signingKeyIssues(c);
        if (keyIssues.length) throw new RiskstreamError('CONFIG_INVALID', 'signing keys', { issues: keyIssues });
        const on = c.behaviors.filter((b) => b.enabled).map((b) => `${b.id}(${b.risk_level})`);
        const keyFile = configPath(c, c.raw.signing.key_file);
        const keyNote = existsSync(keyFile)
          ? ''
          : `\n  signing: ${c.raw.signing.key_file} does not exist yet: the worker generates a new key there at its first start`;
        print(
          `ok: ${c.files.join(', ')}\n  behaviors enabled${c.shippedBehaviors ? ' (no behaviors.yaml: the shipped defaults)' : ''}: ${on.join(', ') || 'none'}\n  receivers: ${c.receivers.map((r) => `${r.name} (${r.kind})`).join(', ') || 'none'}\n  redis: ${c.redisCluster ? `cluster, startup nodes ${c.redisCluster.map((u) => new URL(u).host).join(' ')}` : 'one node'}${keyNote}\n`,
        );
      } catch (err) {
        if (isRiskstreamError(err, 'CONFIG_INVALID')) {
          const issues = (err.details?.issues ?? []) as Array<{ file: string; line: number; col: number; message: string }>;
          for (const i of issues) process.stderr.write(escapeControlsKeepLines(`${i.file}:${i.line}:${i.col} ${i.message}\n`));
          process.exitCode = 1;
          return;
        }
        if (isRiskstreamError(err, 'CONFIG_NOT_FOUND')) {
          process.stderr.write(`${escapeControlsKeepLines(err.message)}\n`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}
