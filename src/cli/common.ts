import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../config/load.js';
import { Keys } from '../keys.js';

/** The `--config` option's default: ./config. */
export const DEFAULT_CONFIG = 'config';

/** Loads config and opens a Redis connection for a one-shot CLI command. */
export async function openCli(configPath: string): Promise<{ config: Config; redis: Redis; keys: Keys; close(): Promise<void> }> {
  const config = loadConfig(configPath);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  return { config, redis, keys: new Keys(config.prefix), close: async () => void (await redis.quit()) };
}

/** Prints rows as an aligned text table. */
export function table(rows: Array<Record<string, unknown>>, columns?: string[]): string {
  if (!rows.length) return '(none)\n';
  const cols = columns ?? Object.keys(rows[0]!);
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n';
}
