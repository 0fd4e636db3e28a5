import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { criticalDetection } from '../helpers/worker.js';
import { runInProcess } from './in-process.js';

const prefix = testPrefix('cli-actor');
const redis = redisClient();
const USER = 'nina@example.com';
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix);
  await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(USER));
  await waitFor(async () => (await call(w.url, `/v1/users/${USER}/risk`, { token: w.cfg.adminToken })).json.level === 'high' || undefined, { what: 'high' });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('the CLI names its OS user as the audit actor (found by a black-box review)', () => {
  it('risk reset with $USER unset records cli:<OS user>, as sessions revoke does, not a made-up cli:admin', async () => {
    const before = process.env.USER;
    delete process.env.USER;
    try {
      const r = await runInProcess(['risk', 'reset', USER, '--reason', 'checked', '--config', w.cfg.dir]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      if (before !== undefined) process.env.USER = before;
    }
    const rows = (await redis.xrange(`${prefix}:audit`, '-', '+')) as Array<[string, string[]]>;
    const resets = rows.map(([, f]) => f).filter((f) => f[f.indexOf('action') + 1] === 'risk.reset');
    expect(resets).toHaveLength(1);
    const f = resets[0]!;
    expect(f[f.indexOf('actor') + 1]).toBe(`cli:${userInfo().username}`);
  });
});
