/**
 * `riskstream replay` on inputs an outside tester tries (a black-box walk of CONTRACT §1), without
 * a worker; and meeting a Redis error partway (found by a config audit): the last chunk's append
 * failed (WRONGTYPE: the activity stream's key holds a string) after 500 events went in, and the
 * error came without the "(after N events were appended)" note a read error carries — the caller
 * could not tell what not to send again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';

const redis = redisClient();
const runs: Array<{ prefix: string; dir: string }> = [];

/** A configuration directory under a fresh prefix, with `events` as its events.ndjson. */
function replayDir(name: string, events: string): { prefix: string; dir: string; file: string } {
  const prefix = testPrefix(name);
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
  writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\n`);
  writeFileSync(join(dir, 'behaviors.yaml'), 'brute_force:\n  risk_level: high\n');
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, events);
  runs.push({ prefix, dir });
  return { prefix, dir, file };
}

const login = { type: 'login', user: 'alice@example.com', time: '2026-12-01T00:00:00Z', outcome: 'success' };
const dlp = { type: 'dlp', user: 'alice@example.com', time: '2026-12-01T00:00:00Z', severity: 'high' };
// CRLF line ends and blank lines between the events.
const { prefix, dir, file } = replayDir('cli-replay-edges', `${JSON.stringify(login)}\r\n\r\n   \r\n${JSON.stringify(dlp)}\r\n`);

afterAll(async () => {
  // cleanup also removes the replay's chunk markers, in each input stream's `{…}` slot.
  for (const r of runs) {
    await cleanup(redis, r.prefix);
    rmSync(r.dir, { recursive: true, force: true });
  }
  redis.disconnect();
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

describe('riskstream replay: a Redis error partway', () => {
  it('exits 1 and says how many events were appended before it', async () => {
    const logins = Array.from({ length: 500 }, (_, i) => JSON.stringify({ ...login, id: `l-${i}` }));
    // One chunk (500) of logins, then one event for the activity stream: the second chunk's append fails.
    const run = replayDir('cli-replay-redis-error', `${logins.join('\n')}\n${JSON.stringify(dlp)}\n`);
    await redis.set(`${run.prefix}:activity`, 'not a stream');
    const r = await runInProcess(['replay', run.file, '--config', run.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(after 500 events were appended)');
    expect(await redis.xlen(`${run.prefix}:login`)).toBe(500);
  });
});
