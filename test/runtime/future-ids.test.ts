/**
 * Entries with ids ahead of the clock (added with an explicit id, or after one: `*` numbers above
 * the stream's last id). Within `ingest.max_future` they are held (the merged order) and /readyz
 * says the pipeline is stalled once `ingest.stall_after` passed; beyond it they are dead-lettered
 * with a reason, as is every entry numbered after them. Other streams are scored meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { FUTURE_ID } from '../../src/ingest/decode.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('future-ids');
let cfg: TestConfig;
let worker: WorkerHandle;

beforeAll(async () => {
  cfg = await writeTestConfig(prefix, { ingest: { stall_after: '2s' }, streams: { extra: [`${prefix}:extra`] } });
  worker = await startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: `${prefix}-1` });
});
afterAll(async () => {
  await worker?.close();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const dlp = (user: string) => JSON.stringify({ type: 'dlp', user, time: new Date().toISOString(), profile: 'pii', severity: 'critical', action: 'block' });
const level = async (user: string): Promise<string | undefined> => {
  const r = await fetch(`${worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return r.status === 200 ? ((await r.json()) as { level: string }).level : undefined;
};

describe('entry ids ahead of the clock', () => {
  it('beyond ingest.max_future: dead-lettered with a reason, and so is the entry Redis numbers after it', async () => {
    const login = `${prefix}:extra`;
    await redis.xadd(
      login,
      '9999999999999-0',
      'event',
      JSON.stringify({ type: 'login', user: 'far@example.com', time: new Date().toISOString(), outcome: 'success' }),
    );
    const next = await redis.xadd(
      login,
      '*',
      'event',
      JSON.stringify({ type: 'login', user: 'after@example.com', time: new Date().toISOString(), outcome: 'success' }),
    );
    expect(next).toBe('9999999999999-1');
    const dead = await waitFor(
      async () => {
        const rows = await redis.xrange(`${prefix}:dead-letter`, '-', '+');
        return rows.length >= 2 ? rows : undefined;
      },
      { timeout: 15_000, what: 'both dead-lettered' },
    );
    const fields = dead.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(fields.map((f) => [f.source_id, f.reason])).toEqual([
      ['9999999999999-0', FUTURE_ID],
      ['9999999999999-1', FUTURE_ID],
    ]);
    expect(((await redis.xpending(login, 'riskstream')) as unknown[])[0]).toBe(0);
  });

  it('within it: held, the other streams scored meanwhile, and /readyz says stalled after stall_after', async () => {
    const activity = `${prefix}:activity`;
    const ahead = Date.now() + 10 * 60_000;
    await redis.xadd(activity, `${ahead}-0`, 'event', dlp('ahead@example.com'));
    await redis.xadd(activity, '*', 'event', dlp('behind-it@example.com'));
    // Another stream goes on.
    await redis.xadd(`${prefix}:login`, '*', 'event', dlp('other@example.com'));
    await waitFor(async () => (await level('other@example.com')) === 'medium' || undefined, { timeout: 15_000, what: 'the other stream scored' });
    const ready = await waitFor(
      async () => {
        const r = await fetch(`${worker.url}/readyz`);
        const body = (await r.json()) as { ok: boolean; reasons?: Record<string, string> };
        return r.status === 503 ? body : undefined;
      },
      { timeout: 15_000, what: '/readyz 503' },
    );
    expect(ready.reasons?.pipeline).toMatch(/^stalled: no progress for \d+s while \d+ entries wait and [1-9]\d* are pending/);
    expect(await level('behind-it@example.com')).toBeUndefined();
  });
});
