import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configInvalid, configPath, envLogLevelProblem, readConfig, type Config } from '../../config/load.js';
import { locate, parseFile } from '../../config/yaml-source.js';
import { isRiskstreamError } from '../../errors.js';
import { signingKeyIssues } from '../config-keys.js';
import { implicitKeySpecs } from '../../ssf/implicit-keys.js';
import { openGeoIp } from '../../ingest/geoip.js';
import { DEFAULT_CONFIG, print } from '../common.js';
import { escapeControlsKeepLines } from '../terminal-text.js';
import { idleResponses } from '../../config/responses.js';

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
        // Every problem in one run: the checks the worker makes at start too, beside the files' own.
        const { config: c, issues, signingRead } = readConfig(o.config);
        const envLevel = envLogLevelProblem();
        if (envLevel) issues.push({ file: c.files[0] ?? o.config, line: 1, col: 1, message: envLevel });
        // Keys judged only as the file gives them (a section that failed would be judged at its defaults).
        if (signingRead) issues.push(...(await signingKeyIssues(c)));
        // The GeoIP database, opened as the worker opens it at start.
        await openGeoIp(c).catch((err: unknown) => {
          if (!isRiskstreamError(err, 'CONFIG_INVALID')) throw err;
          issues.push({ ...located(c, ['geoip', 'mmdb'], o.config), message: err.message });
        });
        const keyFile = configPath(c, c.raw.signing.key_file);
        const blocked = existsSync(keyFile) || !signingRead ? undefined : notADirectory(dirname(keyFile));
        if (blocked)
          issues.push({ ...located(c, ['signing', 'key_file'], o.config), message: `signing.key_file: cannot be created: ${blocked} is not a directory` });
        if (issues.length) throw configInvalid(issues, c.files);
        const on = c.behaviors.filter((b) => b.enabled).map((b) => `${b.id}(${b.risk_level})`);
        const keyNote = existsSync(keyFile)
          ? ''
          : `\n  signing: ${c.raw.signing.key_file} does not exist yet: the worker generates a new key there at its first start`;
        const implicitNote = implicitKeySpecs(c)
          .filter((k) => !existsSync(configPath(c, k.key_file)))
          .map((k) => `\n  signing: ${k.key_file} (${k.alg}, for receivers signing ${k.alg}) does not exist yet: the worker generates it at its first start`)
          .join('');
        const defaultsNote = c.mainFile
          ? ''
          : `\n  note: no riskstream.yaml in ${c.dir}: every setting is its default (redis.prefix riskstream, http.port 8080)`;
        const idle = idleResponses(c.responses, c.behaviors)
          .map((n) => `\n  note: ${n}`)
          .join('');
        print(
          `ok: ${c.files.join(', ')}\n  behaviors enabled${c.shippedBehaviors ? ' (no behaviors.yaml: the shipped defaults)' : ''}: ${on.join(', ') || 'none'}\n  receivers: ${c.receivers.map((r) => `${r.name} (${r.kind})`).join(', ') || 'none'}\n  redis: ${c.redisCluster ? `cluster, startup nodes ${c.redisCluster.map((u) => new URL(u).host).join(' ')}` : 'one node'}${keyNote}${implicitNote}${defaultsNote}${idle}\n`,
        );
      } catch (err) {
        if (isRiskstreamError(err, 'CONFIG_INVALID')) {
          const issues = (err.details?.issues ?? []) as Array<{ file: string; line: number; col: number; message: string }>;
          for (const i of issues) process.stderr.write(escapeControlsKeepLines(`${i.file}:${i.line}:${i.col} ${i.message}\n`));
          process.exitCode = 1;
          return;
        }
        if (isRiskstreamError(err, 'CONFIG_NOT_FOUND')) {
          // One issue like any other (CONTRACT §1: `file:line:col message` per error): the path given
          // does not exist, or one of its files (details.file) cannot be read.
          const file = err.details?.file as string | undefined;
          process.stderr.write(escapeControlsKeepLines(`${file ?? resolve(o.config)}:1:1 ${file ? 'cannot read the file' : 'config not found'}\n`));
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}

/** The nearest existing ancestor of `dir` (itself included) when it is not a directory (a key file could not be created under it). */
function notADirectory(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d)) return statSync(d).isDirectory() ? undefined : d;
    if (dirname(d) === d) return undefined;
  }
}

/** Where a setting of the main file is (file, line, col): its start when the file or the key is not found. */
function located(c: Config, path: PropertyKey[], fallback: string): { file: string; line: number; col: number } {
  const file = c.files.find((f) => !/behaviors\.ya?ml$/.test(f)) ?? c.files[0] ?? fallback;
  const parsed = existsSync(file) && statSync(file).isFile() ? parseFile(file, []) : undefined;
  return { file, ...(parsed ? locate(parsed, path) : { line: 1, col: 1 }) };
}
