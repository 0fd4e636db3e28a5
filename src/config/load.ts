import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { RiskstreamError } from '../errors.js';
import { LOG_LEVELS, riskstreamSchema, type RiskstreamFileConfig } from './schema.js';
import { isRedisUrl } from './url-rules.js';
import { withoutEmptyValues } from './empty-values.js';
import type { BehaviorConfig } from './behaviors-schema.js';
import { resolveProfile } from '../ingest/profiles/index.js';
import { readEnvTokens } from './env-tokens.js';
import { checkReceiverEntries, resolveReceivers } from './receiver-resolve.js';
import type { ResolvedReceiver } from './receiver.js';
import { locate, parseFile, pushZodIssues, type ConfigIssue } from './yaml-source.js';
import { looksLikeBehaviors, misnamedFiles, shippedBehaviorsFile } from './behaviors-file.js';
import { parseBehaviors } from './behaviors-parse.js';
import { parseResponses, type ResponseRule } from './responses.js';
import { inputTargetIssues, streamClashes } from './stream-clashes.js';
import { redisTopologyIssues } from './redis-topology.js';
import { streamNames, type StreamNames } from './stream-names.js';
import { inputNamesParse, sectionParses, sectionsThatParse } from './sections.js';

export type { ConfigIssue } from './yaml-source.js';
export type { StreamNames } from './stream-names.js';
export { shippedBehaviorsFile } from './behaviors-file.js';
export { parseBehaviors } from './behaviors-parse.js';

/** The validated, resolved configuration the worker runs with. */
export interface Config {
  dir: string;
  files: string[];
  /** The main file read (riskstream.yaml, or the file given); undefined when every setting is its default. */
  mainFile?: string;
  raw: RiskstreamFileConfig;
  streams: StreamNames;
  behaviors: BehaviorConfig[];
  /** `responses:` of behaviors.yaml (src/config/responses.ts). */
  responses: ResponseRule[];
  receivers: ResolvedReceiver[];
  redisUrl: string;
  /** Startup nodes of the Redis Cluster (`redis.cluster`), or null for one node (`redisUrl`; `REDIS_URL` set means one node). */
  redisCluster: string[] | null;
  prefix: string;
  adminTokens: string[];
  ingestTokens: string[];
  ssfTokens: string[];
  /** Tokens that open `GET /metrics` only (`http.metrics_tokens`, `RISKSTREAM_METRICS_TOKEN`). */
  metricsTokens: string[];
  /** True when no behaviors.yaml was found beside the config and the shipped defaults apply. */
  shippedBehaviors: boolean;
}

/**
 * Loads and validates configuration from a directory (`riskstream.yaml` + `behaviors.yaml`)
 * or a file: a main file with its sibling `behaviors.yaml`, or a behaviors file (`*behaviors*`)
 * with its sibling `riskstream.yaml` (each when there). Throws CONFIG_INVALID with `details.issues` (file, line, col, message).
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: ReadOptions = {}): Config {
  const { config, issues } = readConfig(path, env, opts);
  if (issues.length) throw configInvalid(issues, config.files);
  return config;
}

/** How {@link readConfig} reads. */
export interface ReadOptions {
  /**
   * Whether the receivers' credentials must be in the environment (default true: the worker and
   * `config check`). False for the one-shot commands, which send no SET: an unset variable is no issue.
   */
  receiverSecrets?: boolean;
}

/** What {@link readConfig} found: the configuration (sections that failed at their defaults) and every issue. */
export interface ConfigRead {
  config: Config;
  issues: ConfigIssue[];
  /** False when the main file did not parse or its `signing` section failed: checks of the keys would judge the defaults, not the file. */
  signingRead: boolean;
}

/**
 * {@link loadConfig} without throwing on issues: `config check` goes on to the checks the worker
 * makes at start (signing keys, GeoIP), so every problem is reported in one run. Throws CONFIG_NOT_FOUND.
 */
export function readConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: ReadOptions = {}): ConfigRead {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new RiskstreamError('CONFIG_NOT_FOUND', `config not found: ${path}`, { path });
  const issues: ConfigIssue[] = [];
  let mainFile: string | undefined;
  let behaviorsFile: string | undefined;
  let dir: string;
  if (statSync(abs).isDirectory()) {
    dir = abs;
    mainFile = existsSync(join(abs, 'riskstream.yaml')) ? join(abs, 'riskstream.yaml') : undefined;
    behaviorsFile = existsSync(join(abs, 'behaviors.yaml')) ? join(abs, 'behaviors.yaml') : undefined;
  } else {
    dir = dirname(abs);
    if (/behaviors/i.test(basename(abs))) {
      // As a main file given reads the behaviors beside it, a behaviors file reads the settings beside it.
      behaviorsFile = abs;
      const sibling = join(dir, 'riskstream.yaml');
      if (existsSync(sibling)) mainFile = sibling;
    } else {
      mainFile = abs;
      const sibling = join(dir, 'behaviors.yaml');
      if (existsSync(sibling)) behaviorsFile = sibling;
    }
  }
  issues.push(...misnamedFiles(dir, mainFile, behaviorsFile));
  let mainParsed = mainFile ? parseFile(mainFile, issues) : undefined;
  if (mainParsed && mainFile && looksLikeBehaviors(mainParsed) && !behaviorsFile) {
    behaviorsFile = mainFile;
    mainFile = undefined;
    mainParsed = undefined;
  }
  // No behaviors file beside the config: the shipped defaults rather than no detection at all
  // (the worker says so in its log).
  const shippedBehaviors = behaviorsFile === undefined;
  if (shippedBehaviors) behaviorsFile = shippedBehaviorsFile();
  const behaviorsParsed = behaviorsFile ? parseFile(behaviorsFile, issues) : undefined;

  let raw: RiskstreamFileConfig = riskstreamSchema.parse({});
  let signingRead = !mainFile || mainParsed !== undefined;
  if (mainParsed) {
    mainParsed.js = withoutEmptyValues(riskstreamSchema, mainParsed.js); // `geoip:` with its keys commented out: the defaults
    const r = riskstreamSchema.safeParse(mainParsed.js ?? {});
    if (r.success) raw = r.data;
    else {
      pushZodIssues(mainParsed, [], r.error, issues);
      const kept = sectionsThatParse(mainParsed.js);
      raw = kept ?? raw;
      signingRead = kept !== undefined && sectionParses(mainParsed.js, 'signing');
    }
  }
  const behaviors = parseBehaviors(behaviorsParsed, issues);
  const responses = parseResponses(behaviorsParsed, issues);
  if (mainParsed) {
    for (const [stream, profile] of Object.entries(raw.mapping.streams)) {
      try {
        resolveProfile(profile, raw.mapping);
      } catch (e) {
        issues.push({
          file: mainParsed.file,
          ...locate(mainParsed, ['mapping', 'streams', stream]),
          message: `mapping.streams.${stream}: ${(e as Error).message}`,
        });
      }
    }
  }
  const at = (path: readonly PropertyKey[]): { line: number; col: number } => (mainParsed ? locate(mainParsed, path) : { line: 1, col: 1 });
  const secrets = opts.receiverSecrets ?? true;
  const receivers = resolveReceivers(raw, mainFile ?? abs, issues, at, secrets);
  // A section that failed the schema is at its default (none): its entries that parse are checked still.
  if (mainParsed && !sectionParses(mainParsed.js, 'receivers'))
    checkReceiverEntries((mainParsed.js as Record<string, unknown>).receivers, mainFile ?? abs, issues, at, secrets);
  // Environment tokens: the same minimum as the file's (reported against the main file's start).
  const envTokens = readEnvTokens(env);
  for (const message of envTokens.problems) issues.push({ file: mainFile ?? abs, line: 1, col: 1, message });
  // The other environment variables the worker reads: held to the rules of the settings they replace.
  for (const message of envProblems(env)) issues.push({ file: mainFile ?? abs, line: 1, col: 1, message });
  // Which Redis: one node or a cluster, and a cluster's hash-slot rules.
  const redisJs = mainParsed ? (mainParsed.js as { redis?: unknown } | null)?.redis : undefined;
  issues.push(...redisTopologyIssues(raw, redisJs, env, at).map((i) => ({ file: mainFile ?? abs, ...i })));

  issues.push(
    ...[...streamClashes(raw, at), ...inputTargetIssues(raw, at, !mainParsed || inputNamesParse(mainParsed.js))].map((i) => ({ file: mainFile ?? abs, ...i })),
  );

  const prefix = raw.redis.prefix;
  const config: Config = {
    dir,
    files: [mainFile, behaviorsFile].filter((f): f is string => !!f),
    ...(mainFile ? { mainFile } : {}),
    raw,
    streams: streamNames(raw),
    behaviors,
    responses,
    receivers,
    // An empty REDIS_URL (a compose file's unset `${REDIS_URL}`) is no override, as for redis.cluster.
    redisUrl: env.REDIS_URL || raw.redis.url,
    redisCluster: env.REDIS_URL ? null : (raw.redis.cluster ?? null),
    prefix,
    adminTokens: [...raw.http.admin_tokens, ...envTokens.tokens.admin],
    ingestTokens: [...raw.http.ingest_tokens, ...envTokens.tokens.ingest],
    ssfTokens: [...raw.http.ssf_tokens, ...envTokens.tokens.ssf],
    metricsTokens: [...raw.http.metrics_tokens, ...envTokens.tokens.metrics],
    shippedBehaviors,
  };
  return { config, issues, signingRead };
}

/** CONFIG_INVALID listing `issues` in reading order: `files` (riskstream.yaml, then behaviors.yaml), then line and column. */
export function configInvalid(issues: ConfigIssue[], files: string[]): RiskstreamError {
  const order = [...new Set([...files, ...issues.map((i) => i.file)])];
  const sorted = [...issues].sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file) || a.line - b.line || a.col - b.col);
  const text = sorted.map((i) => `${i.file}:${i.line}:${i.col} ${i.message}`).join('\n');
  return new RiskstreamError('CONFIG_INVALID', text, { issues: sorted });
}

/** What is wrong with `REDIS_URL` (checked as `redis.url` is, a bare host:port kept; never quoting a value). */
function envProblems(env: NodeJS.ProcessEnv): string[] {
  const url = env.REDIS_URL;
  // Another scheme (http://) is a mistake; a bare host:port is what ioredis reads as one (kept working),
  // as `redis://<it>`: one that is no URL even so (`redis host:6379`) would fail the worker's start.
  if (!url || isRedisUrl(url)) return [];
  const bad = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || !URL.canParse(`redis://${url}`);
  return bad ? ['REDIS_URL: must be a redis:// or rediss:// URL (or a unix socket path)'] : [];
}

/** What is wrong with `RISKSTREAM_LOG_LEVEL` (checked where it is read: the worker without --log-level, config check). */
export function envLogLevelProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const level = env.RISKSTREAM_LOG_LEVEL;
  return level === undefined || level === '' ? undefined : logLevelProblem(level, 'RISKSTREAM_LOG_LEVEL');
}

/** What is wrong with a log level given as `name` (`RISKSTREAM_LOG_LEVEL`, `--log-level`): not one pino knows. */
export function logLevelProblem(level: string, name: string): string | undefined {
  return (LOG_LEVELS as readonly string[]).includes(level) ? undefined : `${name}: must be one of ${LOG_LEVELS.join(', ')}`;
}

/** Resolves a path from the config (relative paths are relative to the config directory). */
export function configPath(cfg: Pick<Config, 'dir'>, p: string): string {
  return resolve(cfg.dir, p);
}
