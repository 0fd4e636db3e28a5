/**
 * Real log shippers for the tests: rsyslog (omhiredis) and syslog-ng (redis()), as unpacked by
 * scripts/ensure-shippers.sh into .cache/shippers/, else as installed on the system. Each runs
 * as a private instance: its own config, pid file and work dir; never the system daemon, never
 * /dev/log or a system port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache/shippers');

/** How to run one shipper, or why it cannot be run here. */
export type Shipper = { ok: true; bin: string; moduleDir: string; env: Record<string, string> } | { ok: false; reason: string };

/** `<root>/lib/<triplet>`, `<root>/usr/lib/<triplet>` and `extra` dirs that exist. */
function libDirs(root: string, extra: string[] = []): string[] {
  const dirs: string[] = [];
  for (const base of ['lib', 'usr/lib']) {
    const dir = join(root, base);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir)) if (/-linux-gnu/.test(d)) dirs.push(join(dir, d));
  }
  return [...dirs, ...extra.map((e) => join(root, e))].filter((d) => existsSync(d));
}

/** The first `<root>/<parent>/<child>` directory holding `file`. */
function findModuleDir(root: string, parents: string[], child: string | undefined, file: string): string | undefined {
  for (const p of parents) {
    const dir = join(root, p);
    if (!existsSync(dir)) continue;
    for (const d of child === undefined ? readdirSync(dir) : readdirSync(dir).filter((x) => /-linux-gnu/.test(x))) {
      const m = join(dir, d, child ?? '');
      if (existsSync(join(m, file))) return m;
    }
  }
  return undefined;
}

function locate(name: string, bin: string, parents: string[], child: string | undefined, module: string, extraLibs: string[]): Shipper {
  for (const root of [join(CACHE, name), '/']) {
    const exe = join(root, bin);
    const moduleDir = findModuleDir(root, parents, child, module);
    if (!existsSync(exe) || !moduleDir) continue;
    const libs = root === '/' ? [] : libDirs(root, extraLibs);
    return { ok: true, bin: exe, moduleDir, env: libs.length ? { LD_LIBRARY_PATH: [...libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {} };
  }
  return { ok: false, reason: `${name} with its Redis module is neither in .cache/shippers/${name} nor installed (run scripts/ensure-shippers.sh)` };
}

/** rsyslogd and omhiredis.so (Debian: rsyslog + rsyslog-hiredis). */
export const findRsyslog = (): Shipper => locate('rsyslog', 'usr/sbin/rsyslogd', ['usr/lib'], 'rsyslog', 'omhiredis.so', []);

/** syslog-ng and libredis.so (Debian: syslog-ng-core + syslog-ng-mod-redis). */
export const findSyslogNg = (): Shipper => locate('syslog-ng', 'usr/sbin/syslog-ng', ['usr/lib/syslog-ng'], undefined, 'libredis.so', ['usr/lib/syslog-ng']);

/** A shipper process started by {@link runShipper}. */
export interface RunningShipper {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/** Starts a shipper in the foreground (its output captured for failure messages). */
export function runShipper(s: Extract<Shipper, { ok: true }>, args: string[]): RunningShipper {
  const child = spawn(s.bin, args, { env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', (e) => (out += `spawn error: ${e.message}\n`));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
