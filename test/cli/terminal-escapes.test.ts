import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { escapeControls } from '../../src/cli/terminal-text.js';
import { runInProcess } from './in-process.js';
import { runCli } from './run.js';

/** Issue 13 row 10: a user name's terminal escapes are printed as visible escapes, never raw. */
const prefix = testPrefix('cli-escapes');
const redis = redisClient();
let w: ApiWorker;

// Retitles the terminal (OSC 0 … BEL), erases the line, a C1 CSI, DEL and a bidi override.
const EVIL = 'mallory\u001b]0;pwned\u0007\u001b[2K\r\u009b31m\u007f\u202egro.elpmaxe@x';
// eslint-disable-next-line no-control-regex -- the point: find raw control bytes
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

beforeAll(async () => {
  w = await startApiWorker(prefix);
  const body = JSON.stringify({
    type: 'endpoint',
    user: EVIL,
    time: new Date().toISOString(),
    device: { id: 'd-1' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
  });
  const r = await call(w.url, '/v1/events', { method: 'POST', body, token: w.cfg.ingestToken, headers: { 'content-type': 'application/x-ndjson' } });
  expect(r.status).toBe(202);
  await waitFor(async () => (await call(w.url, `/v1/users/${encodeURIComponent(EVIL)}/risk`, { token: w.cfg.adminToken })).json?.level === 'high', {
    what: 'the user high',
  });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('CLI output replaces control characters', () => {
  it('riskstream risk list (a real process): the row shows \\u001b…, no raw ESC, CR, C1, DEL or bidi override', async () => {
    const r = await runCli(['risk', 'list', '--config', w.cfg.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain('mallory\\u001b]0;pwned\\u0007\\u001b[2K\\u000d\\u009b31m\\u007f\\u202egro.elpmaxe@x');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2); // header + one row
  });

  it('risk <user>, audit tail and --json: escaped too; the JSON still parses to the same name', async () => {
    const explain = await runInProcess(['risk', EVIL, '--config', w.cfg.dir]);
    expect(explain.code).toBe(0);
    expect(explain.stdout).not.toMatch(RAW);
    expect(explain.stdout).toContain(escapeControls(EVIL));

    const json = await runInProcess(['risk', EVIL, '--json', '--config', w.cfg.dir]);
    expect(json.stdout).not.toMatch(RAW);
    expect((JSON.parse(json.stdout) as { user: string }).user).toBe(EVIL);

    const tail = await runInProcess(['audit', 'tail', '-n', '20', '--config', w.cfg.dir]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).not.toMatch(RAW);
  });
});
