import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { runInProcess } from './in-process.js';
import { runCli } from './run.js';
import { criticalDetection } from '../helpers/worker.js';

/** `riskstream replay` into a running worker, then `riskstream risk` explains the levels. */
const prefix = testPrefix('cli-replay');
const redis = redisClient();
let w: ApiWorker;
let file: string;

const now = Date.now();
const iso = (minAgo: number): string => new Date(now - minAgo * 60_000).toISOString();
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';

beforeAll(async () => {
  w = await startApiWorker(prefix);
  file = join(w.cfg.dir, 'telemetry.ndjson');
  writeFileSync(
    file,
    [
      {
        type: 'login',
        id: 'l-1',
        user: ALICE,
        time: iso(60),
        outcome: 'success',
        ip: '81.2.69.142',
        geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London' },
      },
      {
        type: 'login',
        id: 'l-2',
        user: ALICE,
        time: iso(30),
        outcome: 'success',
        ip: '1.128.0.1',
        geo: { lat: -33.87, lon: 151.21, accuracy_km: 20, country: 'AU', city: 'Sydney' },
      },
      { type: 'dlp', user: ALICE, time: iso(20), profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' },
      { type: 'endpoint', user: BOB, time: iso(10), device: { id: 'd-9' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' },
      // A backfill: three days old, so it arrives expired (expires_after 24h).
      { type: 'endpoint', user: CAROL, time: iso(72 * 60), device: { id: 'd-7' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\nthis line is not JSON\n',
  );
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('riskstream replay, then riskstream risk', () => {
  it('replays the file into the input streams; the worker processes it', async () => {
    const r = await runCli(['replay', file, '--config', w.cfg.dir]);
    // The line that is not JSON is appended (the worker dead-letters it) and named.
    expect(r.stderr).toBe('warning: line 6: not JSON: appended as it is, the worker dead-letters it\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`replayed 6 events: ${prefix}:login=2 ${prefix}:activity=4\n`);
    await waitFor(async () => (await call(w.url, `/v1/users/${BOB}/risk`, { token: w.cfg.adminToken })).json?.level === 'high', { what: 'bob high' });
    await waitFor(async () => (await call(w.url, `/v1/users/${ALICE}/risk`, { token: w.cfg.adminToken })).json?.behaviors?.length === 2, {
      what: "alice's two behaviors",
    });
    // The line that is not JSON was dead-lettered by the worker, with a reason.
    const dead = await waitFor(async () => (await redis.xrange(`${prefix}:dead-letter`, '-', '+'))[0], { what: 'a dead letter' });
    expect(dead[1].join(' ')).toContain('this line is not JSON');
  });

  it('--stream to a stream the worker does not read: appended, with a warning naming the input streams', async () => {
    const bogus = `${prefix}:bogus`;
    const r = await runCli(['replay', file, '--config', w.cfg.dir, '--stream', bogus]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`"${bogus}" is not one of the worker's input streams (${prefix}:login, ${prefix}:activity`);
    expect(await redis.xlen(bogus)).toBe(6);
  });

  // Found by an outside-in audit (CONTRACT §1: replay "appends events to the input streams"):
  // `--stream <prefix>:audit` wrote an empty entry into the audit log (dated 1970), and the dead-letter,
  // risk-events, control and partition streams took events just as well; a later audit: keys of riskstream's that are no
  // stream (a user's delivery records, an engine lease: then never taken, no input routed) took them too.
  it.each(['audit', 'dead-letter', 'risk-events', 'control', '{p0}:in', 'u:{nobody@example.com}:enqueued'])(
    "--stream naming riskstream's own stream (%s): refused, exit 1, nothing appended",
    async (name) => {
      const own = `${prefix}:${name}`;
      const before = await redis.xlen(own);
      const r = await runInProcess(['replay', file, '--config', w.cfg.dir, '--stream', own]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`"${own}"`);
      expect(await redis.xlen(own)).toBe(before);
    },
  );

  it("explains a user's level: each active behavior, its evidence and its expiry", async () => {
    const [r, upper] = await Promise.all([runCli(['risk', ALICE, '--config', w.cfg.dir]), runInProcess(['risk', ALICE.toUpperCase(), '--config', w.cfg.dir])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^alice@example\.com: HIGH \(version \d+, since \d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/• dlp_detection \[medium\] ×1, expires in 23h\d+m/);
    expect(r.stdout).toMatch(/• impossible_travel \[high\] ×1, expires in 23h\d+m/);
    expect(r.stdout).toMatch(/London.*Sydney/);
    // Every time says its clock.
    expect(r.stdout).toContain(`last hit occurred ${iso(30)} (event time)`);
    expect(r.stdout).toMatch(/hit impossible_travel \[high\]: occurred \S+, processed \S+/);
    expect(r.stdout).toMatch(/change \w+ → HIGH: occurred \S+, processed \S+/);
    expect(upper.code).toBe(0);
    expect(upper.stdout.split('\n')[0]).toBe(lines[0]);
  });

  it('a backfilled hit is shown as expired on arrival; the level stays LOW', async () => {
    await waitFor(async () => (await call(w.url, `/v1/users/${CAROL}/events`, { token: w.cfg.adminToken })).json?.events?.length === 1, {
      what: "carol's hit",
    });
    const r = await runInProcess(['risk', CAROL, '--config', w.cfg.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^carol@example\.com: LOW \(version 0\)/);
    expect(r.stdout).toContain('no active behaviors');
    expect(r.stdout).toContain(`hit endpoint_detection [high]: occurred ${iso(72 * 60)}, processed `);
    expect(r.stdout).toContain('expired on arrival (counted no level)');
  });

  it('--json prints the API view; an unknown user exits 1', async () => {
    const json = await runInProcess(['risk', BOB, '--json', '--config', w.cfg.dir]);
    expect(json.code).toBe(0);
    const v = JSON.parse(json.stdout) as { user: string; level: string; behaviors: Array<{ id: string }> };
    expect(v).toMatchObject({ user: BOB, level: 'high', behaviors: [expect.objectContaining({ id: 'endpoint_detection' })] });
    const unknown = await runInProcess(['risk', 'nobody@example.com', '--config', w.cfg.dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown user nobody@example\.com/);
  });

  it('a one-shot command writes no signing key: before a worker ever ran, risk list reads and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskstream-nokey-'));
    try {
      // An okta receiver (RS256, no RS256 key configured): nor its implicit key (keys/signing.rs256.pem).
      const okta = 'receivers:\n  - name: okta\n    kind: okta\n    org_url: https://example.okta.com\n';
      writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\nsigning:\n  key_file: keys/signing.pem\n${okta}`);
      const list = await runInProcess(['risk', 'list', '--config', dir]);
      expect(list.code, list.stderr).toBe(0);
      expect(existsSync(join(dir, 'keys', 'signing.pem'))).toBe(false);
      expect(existsSync(join(dir, 'keys', 'signing.rs256.pem'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('risk list, risk reset and audit tail', async () => {
    const list = await runInProcess(['risk', 'list', '--level', 'high', '--config', w.cfg.dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^USER\s+LEVEL\s+CHANGED_AT/);
    expect(list.stdout).toContain(ALICE);
    expect(list.stdout).toContain(BOB);

    const reset = await runInProcess(['risk', 'reset', BOB, '--reason', 'reimaged', '--config', w.cfg.dir]);
    expect(reset.code).toBe(0);
    // The worker has no receivers: the change is recorded and audited, and no SET is said to be queued.
    expect(reset.stdout).toMatch(/bob@example\.com: HIGH → LOW \(version 2\), no receiver takes level changes: no SET/);
    expect((await call(w.url, `/v1/users/${BOB}/risk`, { token: w.cfg.adminToken })).json.level).toBe('low');

    const tail = await runInProcess(['audit', 'tail', '-n', '5', '--action', 'risk', '--config', w.cfg.dir]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/risk\.reset\s+cli:\S+\s+bob@example\.com/);
  });

  it('options given before the subcommand are used: risk -c <dir> list / reset, risk --json -c <dir> list', async () => {
    const list = await runInProcess(['risk', '-c', w.cfg.dir, 'list', '--level', 'high']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(ALICE);
    // --level in any case, as the API's ?level= (HIGH as SETs spell it; was refused, exit 1).
    const upper = await runInProcess(['risk', '-c', w.cfg.dir, 'list', '--level', 'HIGH']);
    expect(upper.code, upper.stderr).toBe(0);
    expect(upper.stdout).toContain(ALICE);
    const json = await runInProcess(['risk', '--json', '-c', w.cfg.dir, 'list']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { users: Array<{ user: string }> }).users.map((u) => u.user)).toContain(ALICE);
    const reset = await runInProcess(['risk', '-c', w.cfg.dir, 'reset', ALICE, '--reason', 'cli test']);
    expect(reset.code).toBe(0);
    expect((await call(w.url, `/v1/users/${ALICE}/risk`, { token: w.cfg.adminToken })).json.level).toBe('low');
  });

  it('risk list pages with --cursor; risk reset names the user as normalised; a blank user is refused and a token given as user is not echoed (found by a black-box review)', async () => {
    // Each next page is the command line the previous one printed, run as printed (its --limit and
    // --config kept: without them it read the default config directory, 50 to a page).
    const seen: string[] = [];
    let args: string[] | undefined = ['risk', 'list', '--limit', '1', '--config', w.cfg.dir];
    for (let page = 0; page < 10 && args; page++) {
      const r = await runInProcess(args);
      expect(r.code, r.stderr).toBe(0);
      const users = [ALICE, BOB, CAROL].filter((u) => r.stdout.includes(u));
      expect(users.length, r.stdout).toBe(1);
      seen.push(...users);
      args = /^more: riskstream (.+)$/m.exec(r.stdout)?.[1]?.split(' ');
    }
    expect(seen.sort()).toEqual([ALICE, BOB, CAROL]);

    const reset = await runInProcess(['risk', 'reset', `  ${CAROL.toUpperCase()} `, '--config', w.cfg.dir]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/^carol@example\.com: LOW → LOW/);

    const blank = await runInProcess(['risk', '   ', '--config', w.cfg.dir]);
    expect(blank.code).toBe(1);
    expect(blank.stderr).toContain('user: must not be empty');
    const token = await runInProcess(['risk', w.cfg.adminToken, '--config', w.cfg.dir]);
    expect(token.code).toBe(1);
    expect(token.stderr).toContain('unknown user [redacted token]');
    expect(token.stderr).not.toContain(w.cfg.adminToken);
  });

  // Last: its users would show in the listings above.
  it('risk show <user> explains any user, one named as a subcommand (list, reset) too', async () => {
    for (const name of ['list', 'reset']) {
      await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(name, { time: iso(5) }));
      await waitFor(async () => (await call(w.url, `/v1/users/${name}/risk`, { token: w.cfg.adminToken })).json?.level === 'high', {
        what: `user ${name} high`,
      });
      const r = await runInProcess(['risk', 'show', name, '--config', w.cfg.dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${name}: HIGH \\(version 1`));
      expect(r.stdout).toMatch(/• endpoint_detection \[high\] ×1/);
    }
    // One at a time: each captures this process's stdout.
    const shown = await runInProcess(['risk', 'show', BOB, '--json', '--config', w.cfg.dir]);
    const plain = await runInProcess(['risk', BOB, '--json', '--config', w.cfg.dir]);
    expect([shown.code, shown.stderr, plain.code]).toEqual([0, '', 0]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ user: BOB, level: 'low' }); // reset above
    expect(JSON.parse(shown.stdout).version).toBe(JSON.parse(plain.stdout).version);
  });
});
