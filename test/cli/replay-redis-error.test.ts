/**
 * `riskstream replay` meeting a Redis error partway (found by a config audit): the last chunk's
 * append failed (WRONGTYPE: the activity stream's key holds a string) after 500 events went in,
 * and the error came without the "(after N events were appended)" note a read error carries —
 * the caller could not tell what not to send again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';

const prefix = testPrefix('cli-replay-redis-error');
const redis = redisClient();
const dir = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\n`);
writeFileSync(join(dir, 'behaviors.yaml'), 'brute_force:\n  risk_level: high\n');
const file = join(dir, 'events.ndjson');
const login = (i: number): string =>
  JSON.stringify({ type: 'login', id: `l-${i}`, user: 'alice@example.com', time: '2026-12-01T00:00:00Z', outcome: 'success' });
const dlp = JSON.stringify({ type: 'dlp', user: 'alice@example.com', time: '2026-12-01T00:00:00Z', severity: 'high' });
// One chunk (500) of logins, then one event for the activity stream: the second chunk's append fails.
writeFileSync(file, `${Array.from({ length: 500 }, (_, i) => login(i)).join('\n')}\n${dlp}\n`);

/** Every key the replay made outside the prefix too (its chunk markers live in the stream's `{…}` slot). */
async function removeAll(): Promise<void> {
  await cleanup(redis, prefix);
  for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
    const found = await redis.keys(pattern);
    if (found.length) await redis.del(...found);
  }
}

afterAll(async () => {
  await removeAll();
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('riskstream replay: a Redis error partway', () => {
  it('exits 1 and says how many events were appended before it', async () => {
    await redis.set(`${prefix}:activity`, 'not a stream');
    const r = await runInProcess(['replay', file, '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(after 500 events were appended)');
    expect(await redis.xlen(`${prefix}:login`)).toBe(500);
  });
});
