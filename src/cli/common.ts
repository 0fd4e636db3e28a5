import { InvalidArgumentError, type Command } from 'commander';
import { userInfo } from 'node:os';
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import { clusterStateProblem } from '../redis/cluster-state.js';
import { closeConnection, clusterClient, connectionErrorText, refuseClusterNode } from '../runtime/connections.js';
import { loadConfig, type Config } from '../config/load.js';
import { Keys } from '../keys.js';
import { checkPartitionCount } from '../engine/partition-count.js';
import { displayWidth, escapeControls, escapeControlsKeepLines, padColumns } from './terminal-text.js';
import { RiskstreamError } from '../errors.js';
import { Invalid, toUser } from '../ingest/event-schema.js';
import { knownSecrets, scrubAll } from '../secrets/known-secrets.js';

/** The secrets of the configurations this command loaded: taken out of the error it may end with. */
const loadedSecrets: string[] = [];

/** `message` (a command's error) with the loaded configuration's secrets and anything token-shaped taken out. */
export function scrubCliError(message: string): string {
  return scrubAll(message, loadedSecrets);
}

/** How long a one-shot command waits for Redis to take the connection and answer its ready check. */
export const CLI_CONNECT_TIMEOUT_MS = 5000;

/**
 * How long a one-shot command waits for any one Redis answer (its slowest are a page of a listing
 * and a reset's commit script, milliseconds each): a Redis that stalls (paused, swapping, cut off
 * without a reset) fails the command instead of holding it forever.
 */
export const CLI_COMMAND_TIMEOUT_MS = 10_000;

/** The text a command's error ends the CLI with: a Redis that stopped answering said so, secrets taken out. */
export function cliErrorText(err: unknown): string {
  const message = (err as { message?: string } | null)?.message ?? String(err);
  // ioredis's words for a command past its `commandTimeout`.
  if (message === 'Command timed out') return `Redis did not answer within ${CLI_COMMAND_TIMEOUT_MS} ms (stalled or unreachable); nothing more was sent`;
  return scrubCliError(message);
}

/** A CLI command module: registers its command(s) on the program. */
export type CommandModule = (program: Command) => void;

/** The `--config` option's default: ./config. */
export const DEFAULT_CONFIG = 'config';

/** Rows per page of the CLI's listings (`--limit`). */
export const DEFAULT_PAGE = 50;

/** Loads config and opens a Redis connection for a one-shot CLI command. */
export async function openCli(configPath: string): Promise<{ config: Config; redis: RedisClient; keys: Keys; close(): Promise<void> }> {
  // The receivers' credentials are the worker's (set where it runs): no command here sends a SET.
  const config = loadConfig(configPath, process.env, { receiverSecrets: false });
  // Longest first, as knownSecrets orders them (a secret holding another is replaced whole).
  loadedSecrets.push(...knownSecrets(config));
  loadedSecrets.sort((a, b) => b.length - a.length);
  // A one-shot command must fail, not hang, when Redis is away: a few quick reconnects at most.
  const quick = {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    connectTimeout: CLI_CONNECT_TIMEOUT_MS,
    // A Redis that stalled never closes its end: ioredis's default (2 s) kept the socket, and the
    // process, open that long after each disconnect — the command ended 4 s after its error.
    disconnectTimeout: 100,
    retryStrategy: (times: number) => (times > 3 ? null : times * 200),
  };
  const redis: RedisClient = config.redisCluster
    ? clusterClient(
        config.redisCluster,
        'cli',
        { ...quick, commandTimeout: CLI_COMMAND_TIMEOUT_MS },
        { lazyConnect: true, clusterRetryStrategy: (times) => (times > 3 ? null : times * 200) },
      )
    : new Redis(config.redisUrl, quick);
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => void (lastError = err)); // surfaced by the failing command instead
  // connectTimeout bounds the TCP connect only: a Redis that takes the connection and never
  // answers (stalled) would hold the ready check, and the command, forever.
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A cluster client whose ready check failed said nothing: ask a node why.
      const why = redis instanceof Cluster ? clusterStateProblem(redis) : Promise.resolve(undefined);
      void why.then((w) => reject(new RiskstreamError('UNAVAILABLE', `no answer within ${CLI_CONNECT_TIMEOUT_MS} ms${w ? ` (${w})` : ''}`)));
    }, CLI_CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([redis.connect(), unanswered]);
  } catch (err) {
    redis.disconnect();
    throw new RiskstreamError('UNAVAILABLE', `cannot connect to Redis: ${connectionErrorText(lastError ?? (err as Error))}`, undefined, {
      cause: lastError ?? err,
    });
  } finally {
    clearTimeout(timer);
  }
  // Once connected (set earlier, a ready check that failed — not Redis at that port — would leave
  // its timer holding the process for seconds after the error is printed).
  if (!config.redisCluster) (redis as Redis).options.commandTimeout = CLI_COMMAND_TIMEOUT_MS;
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  try {
    await refuseClusterNode(redis); // a cluster's node named as one Redis: MOVED at the first key elsewhere
    await checkPartitionCount(redis, keys); // users' keys under another count would be the wrong ones
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  // QUIT when Redis answers, else the connection dropped: an open socket would keep the process from exiting.
  return { config, redis, keys, close: () => closeConnection(redis) };
}

/** Writes CLI output to stdout with control characters from data escaped (see terminal-text.ts). */
export function print(text: string): void {
  process.stdout.write(escapeControlsKeepLines(text));
}

/** An aligned text table's header line and row format (no newlines), columns as wide as in `rows`. */
export interface TableLayout {
  header: string;
  /** One row's line; a cell wider than its column (a row that came later) widens only this line. */
  line(row: Record<string, unknown>): string;
}

/** The layout of a table of `rows` (see {@link table}); every cell's control characters (newlines too) escaped. */
export function tableLayout(rows: Array<Record<string, unknown>>, cols: string[]): TableLayout {
  const cell = (v: unknown): string => escapeControls(v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  // Terminal columns, not UTF-16 units: wide (CJK) and combining characters keep the columns aligned.
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => displayWidth(cell(r[c])))));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => padColumns(v, widths[i]!))
      .join('  ')
      .trimEnd();
  return { header: line(cols.map((c) => c.toUpperCase())), line: (r) => line(cols.map((c) => cell(r[c]))) };
}

/** Prints rows as an aligned text table; every cell's control characters (newlines too) escaped. */
export function table(rows: Array<Record<string, unknown>>, columns?: string[]): string {
  if (!rows.length) return '(none)\n';
  const layout = tableLayout(rows, columns ?? Object.keys(rows[0]!));
  return [layout.header, ...rows.map((r) => layout.line(r))].join('\n') + '\n';
}

/** A user as typed, normalised as at ingest (trimmed, NFC, emails lower-cased); BAD_REQUEST when not a valid user (as the API). */
export function userArg(raw: string): string {
  const u = toUser(raw, 'user');
  if (u instanceof Invalid) throw new RiskstreamError('BAD_REQUEST', u.message);
  return u;
}

/** A commander option parser: a whole number from `min` to `max` (`--limit abc`, `--port 99999` are refused at once). */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A commander option parser: a number above 0 (`--rate`). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number above 0');
  return n;
}

/** `value` as one shell word (single-quoted unless it is plain). */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line printing the next page: `command --cursor <cursor>` with the options that
 * shaped this page (given only when not their defaults), so that it can be run as printed.
 */
export function nextPageCommand(command: string, cursor: string, options: Record<string, string | number | undefined>): string {
  const rest = Object.entries(options)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([flag, v]) => ` --${flag} ${shellWord(String(v))}`)
    .join('');
  return `riskstream ${command} --cursor ${shellWord(cursor)}${rest}`;
}

/**
 * The audit actor of a CLI command: `cli:<the OS user running it>` — the same for every command
 * (`risk reset`, `sessions revoke`), also where `$USER` is unset (cron, systemd, containers).
 */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}
