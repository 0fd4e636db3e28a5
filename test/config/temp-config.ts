/** Config directories in a temp dir for config tests, and the issues a load of one reports. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigIssue } from '../../src/config/load.js';
import { isRiskstreamError } from '../../src/errors.js';

const dirs: string[] = [];

/** A temp directory holding `files` (name → text); removed by {@link removeTempConfigs}. */
export function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-config-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The issues loading `dir` reports, as `line:col message` ([] when it loads). */
export function issueLines(dir: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(dir, env);
  } catch (err) {
    if (isRiskstreamError(err, 'CONFIG_INVALID')) return (err.details!.issues as ConfigIssue[]).map((i) => `${i.line}:${i.col} ${i.message}`);
    throw err;
  }
  return [];
}

/** Removes every directory {@link tempConfig} made. */
export function removeTempConfigs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
