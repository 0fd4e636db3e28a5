/**
 * What a reload (SIGHUP) reports: the settings a running worker reads only at start
 * (docs/operations.md, "Reloading the configuration") that the new files change — the running
 * value is kept —, and why a refused configuration was refused.
 */
import { isDeepStrictEqual } from 'node:util';
import { isRiskstreamError, RiskstreamError } from '../errors.js';
import { getPath, setPath } from '../ingest/profiles/path.js';
import { configInvalid, type Config, type ConfigIssue } from './load.js';
import { riskstreamSchema, type RiskstreamFileConfig } from './schema.js';
import { locate, parseFile } from './yaml-source.js';

/** Most issues a refused reload's audit entry lists. */
const MAX_ISSUES = 20;

/** Dotted paths into riskstream.yaml read only at start (a whole section, or one key of one). */
export const START_ONLY_SETTINGS = [
  'redis',
  'streams.login',
  'streams.activity',
  'streams.extra',
  'streams.dead_letter',
  'streams.risk_events',
  'streams.audit',
  'streams.group',
  'streams.batch_size',
  'streams.block',
  'streams.maxlen',
  'engine',
  'http.port',
  'http.host',
  'http.body_limit',
  'http.request_timeout',
  'http.trust_proxy',
  'geoip',
  'bridge',
  'state.lru_size',
  'state.sweep_interval',
  'log_level',
] as const;

/** The start-only settings whose value differs between `running` and `next` (paths only: values may be secrets). */
export function startOnlyChanges(running: RiskstreamFileConfig, next: RiskstreamFileConfig): string[] {
  return START_ONLY_SETTINGS.filter((path) => !isDeepStrictEqual(getPath(running, path), getPath(next, path)));
}

/** What {@link keepStartOnly} keeps of a running configuration. */
export type StartOnlyPart = Pick<Config, 'raw' | 'streams' | 'prefix' | 'redisUrl' | 'redisCluster'>;

/**
 * `next` with the start-only settings at their running values (and what derives from them: stream
 * names, prefix, Redis target), so what reads the configuration per request or step — HTTP ingest,
 * dead letters, readiness, back-pressure — goes on with what the running worker was started with.
 */
export function keepStartOnly(running: StartOnlyPart, next: Config): Config {
  // `next` stays untouched: the sections written are copied on the way (setPath's `copy`).
  const raw: Record<string, unknown> = { ...next.raw };
  for (const path of START_ONLY_SETTINGS) setPath(raw, path, structuredClone(getPath(running.raw, path)), true);
  return {
    ...next,
    raw: raw as unknown as Config['raw'],
    streams: running.streams,
    prefix: running.prefix,
    redisUrl: running.redisUrl,
    redisCluster: running.redisCluster,
  };
}

/** A refused configuration's issues as `file:line:col message` (at most {@link MAX_ISSUES}), or the error's first line. */
export function reloadIssues(err: unknown): string[] {
  if (isRiskstreamError(err, 'CONFIG_INVALID')) {
    const issues = (err.details?.issues ?? []) as ConfigIssue[];
    return issues.slice(0, MAX_ISSUES).map((i) => `${i.file}:${i.line}:${i.col} ${i.message}`.slice(0, 500));
  }
  return [(err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500)];
}

/**
 * A signing-key error of a reload (KEY_NOT_FOUND / KEY_INVALID: a key file that cannot be read or
 * is no key, a kid clash, a receiver with no key for its alg) as the configuration mistake it is:
 * CONFIG_INVALID with one issue at the setting that names the key in riskstream.yaml
 * (`details.setting`; else the `signing` section), as `config check` reports it. Other errors as they are.
 */
export function keyRefusal(err: unknown, next: Pick<Config, 'files' | 'mainFile'>): unknown {
  if (!isRiskstreamError(err, 'KEY_NOT_FOUND') && !isRiskstreamError(err, 'KEY_INVALID')) return err;
  const file = next.mainFile ?? next.files[0];
  if (!file) return err;
  const setting = (err.details?.setting as PropertyKey[] | undefined) ?? ['signing'];
  const parsed = parseFile(file, []);
  const issue = { file, ...(parsed ? locate(parsed, setting) : { line: 1, col: 1 }), message: err.message };
  return configInvalid([issue], next.files); // its message holds the key error's
}

/**
 * A reload finding no behaviors.yaml where the running configuration had one (deleted, or an editor
 * saving by rename caught between the two) is refused, rather than the shipped defaults silently
 * replacing the admins' behaviors; restarting without the file runs the defaults (and says so). The
 * same for a riskstream.yaml gone from the configuration directory, or left empty while the running
 * configuration has settings (every setting would be its default).
 * Undefined when `next` may replace `running`.
 */
export function configFilesGone(
  running: Pick<Config, 'files' | 'shippedBehaviors' | 'mainFile' | 'raw'>,
  next: Pick<Config, 'shippedBehaviors' | 'mainFile'>,
): RiskstreamError | undefined {
  // riskstream.yaml likewise: its tokens, receivers and issuer are not to fall back to the defaults.
  if (running.mainFile && !next.mainFile) {
    return refusedFile(
      running.mainFile,
      'the configuration file is gone: the running configuration stays (restore it; restart without it to run every default)',
    );
  }
  // Or left empty (a save cut short), while the running one has settings.
  if (next.mainFile && parseFile(next.mainFile, [])?.js == null && !isDeepStrictEqual(running.raw, riskstreamSchema.parse({}))) {
    return refusedFile(next.mainFile, 'the configuration file is empty: the running configuration stays (for every default, write {})');
  }
  if (!next.shippedBehaviors || running.shippedBehaviors) return undefined;
  return refusedFile(
    running.files.at(-1) ?? 'behaviors.yaml',
    'the behaviors file is gone: the running behaviors stay (restore it; restart without it to run the shipped defaults)',
  );
}

/** CONFIG_INVALID about a whole file (its issue at 1:1). */
function refusedFile(file: string, message: string): RiskstreamError {
  return new RiskstreamError('CONFIG_INVALID', `${file}: ${message}`, { issues: [{ file, line: 1, col: 1, message }] });
}
