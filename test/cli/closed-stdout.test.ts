import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { endOnClosedStdout } from '../../src/cli/closed-stdout.js';
import { ROOT } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-closed-stdout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real CLI with its stdout's reader gone from the start (`riskstream … | true`). */
function withStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => (child.kill('SIGKILL'), fail(new Error(`timed out: ${stderr}`))), 20_000);
    child.once('close', (code) => (clearTimeout(timer), done({ code, stderr })));
  });
}

describe('a CLI whose stdout reader went away (`riskstream … | head`)', () => {
  it('ends quietly with its own exit code, its work done, not with an unhandled EPIPE and exit 1 (found by a black-box audit)', async () => {
    const r = await withStdoutClosed(['keys', 'generate', '--out', dir, '--name', 'k']);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['k.jwk.json', 'k.pem']);
  });

  it('the worker and the demo go on (the worker logs to stderr, the demo cleans up); another error of stdout stays fatal', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      const worker = new PassThrough();
      endOnClosedStdout('worker', worker as unknown as NodeJS.WriteStream);
      worker.emit('error', epipe);
      expect(exit).not.toHaveBeenCalled();
      // The demo too: an exit there skipped its cleanup (its demo-* keys stayed in Redis, its redis-server ran on).
      const demo = new PassThrough();
      endOnClosedStdout('demo', demo as unknown as NodeJS.WriteStream);
      demo.emit('error', epipe);
      expect(exit).not.toHaveBeenCalled();
      const risk = new PassThrough();
      endOnClosedStdout('risk', risk as unknown as NodeJS.WriteStream);
      risk.emit('error', epipe);
      expect(exit).toHaveBeenCalledTimes(1);
      expect(() => risk.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }))).toThrow('EIO');
    } finally {
      exit.mockRestore();
    }
  });
});
