/** `riskstream replay` on inputs an outside tester tries (a black-box walk of CONTRACT §1), without a worker. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';

const prefix = testPrefix('cli-replay-edges');
const redis = redisClient();
const dir = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\n`);
writeFileSync(join(dir, 'behaviors.yaml'), 'brute_force:\n  risk_level: high\n');
const file = join(dir, 'events.ndjson');
const login = { type: 'login', user: 'alice@example.com', time: '2026-12-01T00:00:00Z', outcome: 'success' };
const dlp = { type: 'dlp', user: 'alice@example.com', time: '2026-12-01T00:00:00Z', severity: 'high' };
// CRLF line ends and blank lines between the events.
writeFileSync(file, `${JSON.stringify(login)}\r\n\r\n   \r\n${JSON.stringify(dlp)}\r\n`);

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('riskstream replay edges', () => {
  it('an empty --stream ("$STREAM" unset) is refused, exit 1, nothing appended (it was the default routing, exit 0)', async () => {
    for (const stream of ['', ' ']) {
      const r = await runInProcess(['replay', file, '--config', dir, '--stream', stream]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('--stream');
    }
    expect(await redis.xlen(`${prefix}:login`)).toBe(0);
    expect(await redis.xlen(`${prefix}:activity`)).toBe(0);
  });

  it('CRLF and blank lines: each event once, to its stream', async () => {
    const r = await runInProcess(['replay', file, '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`replayed 2 events: ${prefix}:login=1 ${prefix}:activity=1\n`);
    const entries = await redis.xrange(`${prefix}:login`, '-', '+');
    expect(entries.map(([, fields]) => JSON.parse(fields[1]!) as unknown)).toEqual([login]);
  });
});
