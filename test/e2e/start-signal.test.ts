/**
 * SIGTERM while the worker is still starting (it has joined the engine's membership and taken
 * leases, it does not serve yet): it drains once started and exits 0, leaving neither its
 * membership nor its leases for the others to wait out (a real process, real Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { membersKey } from '../../src/engine/lease-keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
const ROOT = resolve(import.meta.dirname, '../..');

const redis = redisClient();
const prefix = testPrefix('start-signal');
let cfg: TestConfig | undefined;

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

/** `riskstream worker` from source as a real process: its output so far and its exit. */
function cliWorker(dir: string): { child: ChildProcess; out: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'worker', '--config', dir], {
    cwd: ROOT,
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exited: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))) };
}

describe('a signal during start-up', () => {
  it('SIGTERM after the worker joined, before it serves: drained, exit 0, no membership or lease left', async () => {
    cfg = await writeTestConfig(prefix);
    const w = cliWorker(cfg.dir);
    const child = w.child;
    const exited = w.exited.then((e) => e.code);
    const deadline = Date.now() + 45_000;
    while ((await redis.zcard(membersKey(prefix))) === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const servingAtSignal = w.out().includes('listening on');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Sent while starting (the point of the test): it was not serving yet.
    expect(servingAtSignal).toBe(false);
    expect(await redis.zcard(membersKey(prefix))).toBe(0);
    const leases: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*lease*`, 'COUNT', 1000);
      cursor = next;
      leases.push(...keys);
    } while (cursor !== '0');
    expect(leases).toEqual([]);
  }, 60_000);

  it('a Ctrl-C of `npx riskstream worker` while it starts (found by the ops audit: SIGINT comes twice, from the terminal and forwarded by npm, and the second read as an impatient one: exit 1 at once, nothing drained): drained once started, exit 0', async () => {
    cfg ??= await writeTestConfig(prefix);
    const w = cliWorker(cfg.dir);
    // While the modules load, once the entry script takes signals (SIGHUP, signal 1, the last it takes: SigCgt's lowest bit).
    const catchesSignals = (): boolean => {
      const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${w.child.pid}/status`, 'utf8'));
      return m !== null && (BigInt(`0x${m[1]}`) & 1n) === 1n;
    };
    const until = Date.now() + 15_000;
    while (!catchesSignals() && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    // The terminal signals the whole foreground group (npm and the worker), and npm forwards its SIGINT to the worker.
    w.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50)); // two deliveries (the kernel merges a signal sent again while one is pending)
    w.child.kill('SIGINT');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.out()).not.toMatch(/second signal while starting/);
    expect(await redis.zcard(membersKey(prefix))).toBe(0);
  }, 60_000);

  it('SIGHUP and then SIGTERM while the modules still load (found by a black-box review: a reload right after a start killed the worker): held, then acted on once started', async () => {
    cfg ??= await writeTestConfig(prefix);
    const { child, out, exited } = cliWorker(cfg.dir);
    // Before any module of the worker has loaded (it takes a second or more from source), once the
    // entry script has run its first lines (its signal handlers: SigCgt in /proc). Before that no
    // program can take a signal (Node itself still starting): a fixed delay was not always enough.
    const catchesSighup = (): boolean => {
      const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m !== null && (BigInt(`0x${m[1]}`) & 1n) === 1n; // SIGHUP is signal 1: the mask's lowest bit
    };
    const until = Date.now() + 15_000;
    while (!catchesSighup() && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    expect(out()).toBe('');
    child.kill('SIGHUP');
    const deadline = Date.now() + 45_000;
    while (!out().includes('listening on') && child.exitCode === null && child.signalCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(out(), 'still running after the SIGHUP').toContain('listening on');
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
