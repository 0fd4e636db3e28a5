import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/** An in-process worker (port 0) on a temp config, for route-by-route API tests. */
export interface ApiWorker {
  cfg: TestConfig;
  worker: WorkerHandle;
  url: string;
  close(): Promise<void>;
}

export async function startApiWorker(
  prefix: string,
  main: Record<string, unknown> = {},
  behaviors?: Record<string, unknown>,
  consumer = `${prefix}-c1`,
): Promise<ApiWorker> {
  const cfg = await writeTestConfig(prefix, main, behaviors);
  // Tokens come from the file only, whatever the environment holds.
  const config = loadConfig(cfg.dir, { ...process.env, RISKSTREAM_ADMIN_TOKEN: '', RISKSTREAM_INGEST_TOKEN: '' });
  const worker = await startWorker({ config, configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer });
  return {
    cfg,
    worker,
    url: worker.url,
    close: async () => {
      await worker.close();
      cfg.remove();
    },
  };
}

/**
 * A test file's in-process worker on a fresh prefix named after `name`, started before its tests
 * and stopped (its keys deleted) after them; `worker()` is it once started.
 */
export function apiWorkerFor(name: string, main: Record<string, unknown> = {}): { worker(): ApiWorker } {
  const prefix = testPrefix(name);
  const redis = redisClient();
  let w: ApiWorker | undefined;
  beforeAll(async () => {
    w = await startApiWorker(prefix, main);
  });
  afterAll(async () => {
    await w?.close();
    await cleanup(redis, prefix);
    redis.disconnect();
  });
  return { worker: () => w! };
}

/** A fetch against the worker with an optional bearer token; returns status, headers and parsed body. */
export async function call(
  url: string,
  path: string,
  opts: { token?: string | undefined; method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${url}${path}`, { method: opts.method ?? 'GET', headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Expects the API's JSON error shape. */
export function isApiError(r: { status: number; json: any; headers: Headers }, status: number, code?: string): boolean {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.json)}`);
  if (!/application\/json/.test(r.headers.get('content-type') ?? '')) throw new Error(`not JSON: ${r.headers.get('content-type')}`);
  if (typeof r.json?.error !== 'string' || typeof r.json?.message !== 'string') throw new Error(`not {error, message}: ${JSON.stringify(r.json)}`);
  if (code !== undefined && r.json.error !== code) throw new Error(`expected error ${code}, got ${r.json.error}`);
  return true;
}
