/**
 * `riskstream replay` on inputs an outside tester tries (a black-box walk of CONTRACT §1), without
 * a worker; and meeting a Redis error partway (found by a config audit): the last chunk's append
 * failed (WRONGTYPE: the activity stream's key holds a string) after 500 events went in, and the
 * error came without the "(after N events were appended)" note a read error carries — the caller
 * could not tell what not to send again.
 *
 * Under faults, as an operator runs it (found by a black-box audit):
 * - a line that is a JSON array (a page of an API's records), or objects back to back, was
 *   appended as one entry — the worker dead-lettered the whole line, none of its events scored —
 *   while `POST /v1/events` reads such a line as its elements; and a line that is no JSON object
 *   went by without a word (the count printed included it);
 * - Ctrl-C / SIGTERM killed it midway, saying nothing of what was appended: no way to resume
 *   without sending events twice (now: the lines read are appended whole, the last one said, and
 *   `--from-line` resumes after it);
 * - `-` (standard input) was "cannot read -";
 * - `--stream` naming a bridged list XADDed there: the list became a stream the bridge fails on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';
import { ROOT, runCli, startCli } from './run.js';

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

const loginOf = (id: string): string => JSON.stringify({ type: 'login', id, user: 'alice@example.com', time: '2026-12-01T00:00:00Z', outcome: 'success' });
const dlpOf = (id: string): string => JSON.stringify({ type: 'dlp', id, user: 'alice@example.com', time: '2026-12-01T00:00:00Z', severity: 'high' });

/** The `event` values of a stream, in order. */
async function events(stream: string): Promise<string[]> {
  return (await redis.xrange(stream, '-', '+')).map(([, f]) => f[1]!);
}

describe('riskstream replay: lines as POST /v1/events reads them', () => {
  it('an array line and objects back to back are their elements; what is no JSON object is said by line, still appended', async () => {
    const lines = [
      `[${loginOf('l1')},${dlpOf('d1')}]`,
      `${dlpOf('d2')}${dlpOf('d3')}`,
      'not json',
      `{"records":[${dlpOf('d4')}]}`,
      '[]',
      `[${dlpOf('d5')},42]`,
      '{"broken":',
    ];
    const { prefix, dir, file } = replayDir('cli-replay-array-lines', `\uFEFF${lines.join('\r\n')}\r\n`);
    const r = await runCli(['replay', file, '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`replayed 9 events: ${prefix}:login=1 ${prefix}:activity=8\n`);
    expect(await events(`${prefix}:login`)).toEqual([loginOf('l1')]);
    expect(await events(`${prefix}:activity`)).toEqual([dlpOf('d1'), dlpOf('d2'), dlpOf('d3'), 'not json', dlpOf('d4'), dlpOf('d5'), '42', '{"broken":']);
    // Each record that is no event object is named by its line (the worker dead-letters it).
    expect(r.stderr).toMatch(/line 3: not JSON/);
    expect(r.stderr).toMatch(/line 6: a JSON number/);
    expect(r.stderr).toMatch(/line 7: not JSON/);
    expect(r.stderr).not.toMatch(/line [1245]:/);
  });

  it('--stream naming a bridged list (bridge.lists) is refused, exit 1: the key stays a list (XADD made it a stream the bridge fails on)', async () => {
    const { prefix, dir, file } = replayDir('cli-replay-bridged-list', `${dlpOf('b1')}\n`);
    const list = `${prefix}:vector`;
    writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\nbridge:\n  lists:\n    "${list}": "${prefix}:activity"\n`);
    const r = await runCli(['replay', file, '--config', dir, '--stream', list]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${prefix}:activity`);
    expect(await redis.exists(list)).toBe(0);
    expect(await redis.exists(`${prefix}:activity`)).toBe(0);
  });

  it('reads standard input for "-"', async () => {
    const { prefix, dir } = replayDir('cli-replay-stdin', '');
    const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'replay', '-', '--config', dir], {
      cwd: ROOT,
      env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end(`${loginOf('s1')}\n${dlpOf('s2')}\n`);
    const code = await new Promise<number | null>((done) => child.once('close', done));
    expect(code).toBe(0);
    expect(stdout).toBe(`replayed 2 events: ${prefix}:login=1 ${prefix}:activity=1\n`);
    expect(await events(`${prefix}:activity`)).toEqual([dlpOf('s2')]);
  });
});

describe('riskstream replay: stopped or failed midway, then resumed', () => {
  const total = 1000;
  const file = Array.from({ length: total }, (_, i) => dlpOf(`e-${i + 1}`)).join('\n') + '\n';
  const ids = async (stream: string): Promise<string[]> => (await events(stream)).map((e) => (JSON.parse(e) as { id: string }).id);
  const all = Array.from({ length: total }, (_, i) => `e-${i + 1}`);

  for (const [signal, exit] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: appends the lines read whole, says through which line, exits ${exit}; --from-line resumes with no event twice`, async () => {
      const { prefix, dir, file: path } = replayDir(`cli-replay-${signal}`, file);
      const stream = `${prefix}:activity`;
      const run = startCli(['replay', path, '--config', dir, '--rate', '100']);
      await waitFor(async () => (await redis.xlen(stream)) > 0, { timeout: 30_000, what: 'the first events' });
      run.child.kill(signal);
      expect(await run.closed).toBe(exit);
      const through = Number(/lines up to (\d+) were appended whole: --from-line (\d+)/.exec(run.stderr())?.[1]);
      expect(through).toBeGreaterThan(0);
      expect(through).toBeLessThan(total);
      expect(run.stderr()).toContain(`--from-line ${through + 1}`);
      expect(run.stdout()).toBe(`replayed ${through} events: ${stream}=${through}\n`);
      expect(await redis.xlen(stream)).toBe(through);

      const resumed = await runCli(['replay', path, '--config', dir, '--from-line', String(through + 1)], { timeoutMs: 30_000 });
      expect(resumed.code).toBe(0);
      expect(await ids(stream)).toEqual(all);
    });
  }

  it('SIGINT while standard input is still held open by its writer: stops and exits 130 (it stayed, waiting on stdin)', async () => {
    const { prefix, dir } = replayDir('cli-replay-stdin-open', '');
    const stream = `${prefix}:activity`;
    const run = startCli(['replay', '-', '--config', dir, '--rate', '20'], {}, 'pipe'); // --rate 20: a chunk is one event
    run.child.stdin!.write(`${dlpOf('open-1')}\n`); // and kept open
    await waitFor(async () => (await redis.xlen(stream)) > 0, { timeout: 30_000, what: 'the first event' });
    run.child.kill('SIGINT');
    try {
      expect(await run.closed).toBe(130);
      expect(run.stderr()).toContain('lines up to 1 were appended whole: --from-line 2');
    } finally {
      run.child.stdin!.destroy();
      run.child.kill('SIGKILL');
    }
  });

  it('a Redis error partway says the line to resume from; resuming there appends the rest once', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => loginOf(`l-${i + 1}`));
    const { prefix, dir, file: path } = replayDir('cli-replay-fail-resume', `${lines.join('\n')}\n\n${dlpOf('d-1')}\n`);
    await redis.set(`${prefix}:activity`, 'not a stream');
    const r = await runCli(['replay', path, '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(after 500 events were appended)');
    expect(r.stderr).toContain('--from-line 501');
    // Why, in Redis's words (it was only "could not append events").
    expect(r.stderr).toContain('WRONGTYPE');
    await redis.del(`${prefix}:activity`);
    const resumed = await runCli(['replay', path, '--config', dir, '--from-line', '501']);
    expect(resumed.stdout).toBe(`replayed 1 events: ${prefix}:activity=1\n`);
    expect(await redis.xlen(`${prefix}:login`)).toBe(500);
    expect(await events(`${prefix}:activity`)).toEqual([dlpOf('d-1')]);
  });

  it('--from-line is a line number', async () => {
    const { dir, file: path } = replayDir('cli-replay-from-line-bad', `${dlpOf('x')}\n`);
    for (const bad of ['0', '-1', 'x', '1.5']) expect((await runCli(['replay', path, '--config', dir, '--from-line', bad])).code).toBe(1);
  });
});
