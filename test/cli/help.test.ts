import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../src/cli/commands/index.js';
import { runInProcess } from './in-process.js';
import { runCli } from './run.js';

/** The registered program (for walking its commands). */
function program(): Command {
  const p = new Command('riskstream');
  registerCommands(p);
  return p;
}

/** Exit code and output of `riskstream …args` in-process. */
async function exitOf(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runInProcess(args);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Every command path, walked from the registered program. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const EXPECTED = [
  'worker',
  'config check',
  'replay',
  'keys generate',
  'keys rotate',
  'risk',
  'risk reset',
  'risk list',
  'audit tail',
  'sessions list',
  'sessions show',
  'sessions revoke',
  'demo',
];

describe('every command answers --help with exit 0', () => {
  const all = commandPaths(program());

  it('the commands of docs/interfaces.md §1 are all there', () => {
    expect(all.map((p) => p.join(' '))).toEqual(expect.arrayContaining(EXPECTED));
  });

  it.each(all.map((p) => [p.join(' ')]))('riskstream %s --help', async (path) => {
    const r = await exitOf([...path.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: riskstream ${path}`);
  });

  it('risk without a user prints its help', async () => {
    const r = await exitOf(['risk']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: riskstream risk');
  });

  it('risk with an empty user is refused as risk show with one is, not its help with exit 0 (found by a black-box audit)', async () => {
    for (const args of [
      ['risk', ''],
      ['risk', ' '],
      ['risk', 'show', ''],
    ]) {
      const r = await exitOf([...args, '--config', 'no-such-config-dir']);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.out).not.toContain('Usage:');
    }
  });

  it('as a real process: riskstream --help, riskstream sessions revoke --help', async () => {
    const [top, nested] = await Promise.all([runCli(['--help']), runCli(['sessions', 'revoke', '--help'])]);
    expect(top.code).toBe(0);
    for (const c of ['worker', 'config', 'replay', 'keys', 'risk', 'audit', 'sessions', 'demo']) expect(top.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    expect(nested.code).toBe(0);
    expect(nested.stdout).toContain('Usage: riskstream sessions revoke');
    expect(nested.stdout).toContain('--reason');
  });

  it('the help command answers --help and help help with exit 0, and names an unknown command (found by a black-box audit: exit 1, the usage only)', async () => {
    for (const args of [
      ['help', '--help'],
      ['help', 'help'],
      ['config', 'help', '--help'],
    ]) {
      const r = await exitOf(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out).toContain(`Usage: riskstream ${args.slice(0, -1).join(' ')}`);
    }
    const nested = await exitOf(['help', 'risk', 'list']);
    expect(nested.code).toBe(0);
    expect(nested.out).toContain('Usage: riskstream risk list');
    for (const args of [
      ['help', 'frobnicate'],
      ['config', 'help', 'frobnicate'],
    ]) {
      const r = await exitOf(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.out).toContain("unknown command 'frobnicate'");
    }
  });

  it('an unknown command exits non-zero', async () => {
    const r = await exitOf(['frobnicate']);
    expect(r.code).not.toBe(0);
  });

  it.each([
    ['risk', 'list', '--limit', 'abc'],
    ['risk', 'list', '--limit', '0'],
    ['sessions', 'list', '--limit', '-3'],
    ['sessions', 'list', '--limit', '501'],
    ['audit', 'tail', '-n', 'abc'],
    ['replay', 'x.ndjson', '--rate', '-5'],
    ['worker', '--port', '99999'],
  ])('a numeric option out of its range is refused before anything runs: %s %s %s %s', async (...args) => {
    const r = await exitOf(args);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/must be (a whole number from|a number above)/);
  });

  it('every command that reads the configuration takes -c for --config', () => {
    const all = commandPaths(program());
    const p = program();
    for (const path of all) {
      let c: Command = p;
      for (const name of path) c = c.commands.find((x) => x.name() === name)!;
      const config = c.options.find((o) => o.long === '--config');
      if (config) expect(config.short, path.join(' ')).toBe('-c');
    }
  });

  it('demo --telemetry <relative file> is read from the current directory, checked before anything starts (found by a black-box review: it was read from the package)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskstream-demo-cwd-'));
    try {
      const r = await runCli(['demo', '--telemetry', 'mine.ndjson'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot read ${join(dir, 'mine.ndjson')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
