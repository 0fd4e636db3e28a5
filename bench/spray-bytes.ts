/**
 * What one sprayed username costs in Redis: a real worker (shipped behaviors.yaml) is fed N failed
 * logins for N random users (one each, from a few source IPs, as a password spray is), then the
 * prefix's keys are grouped by kind with MEMORY USAGE, and INFO memory's used_memory compared.
 * `npx tsx bench/spray-bytes.ts [N]` (a private prefix on REDIS_URL, purged after).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { Keys } from '../src/keys.js';
import { generateKeyFiles } from '../src/ssf/keys.js';
import { cleanup, REDIS_URL, redisClient, testPrefix, waitFor } from '../test/helpers/redis.js';
import { engineBehind } from '../test/helpers/engine.js';

const ROOT = resolve(import.meta.dirname, '..');

/** A config directory: the shipped behaviors.yaml, a fresh signing key, `prefix`. */
async function writeConfig(prefix: string): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-bytes-'));
  await generateKeyFiles('ES256', join(dir, 'keys'), 'signing');
  const cfg = {
    redis: { url: REDIS_URL, prefix },
    signing: { key_file: 'keys/signing.pem', alg: 'ES256' },
    issuer: 'https://riskstream.test',
    log_level: 'warn',
    http: { port: 0, host: '127.0.0.1', admin_tokens: [`admin-${prefix}-0123456789abcdef`] },
  };
  writeFileSync(join(dir, 'riskstream.yaml'), stringify(cfg));
  copyFileSync(join(ROOT, 'config/behaviors.yaml'), join(dir, 'behaviors.yaml'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `riskstream worker` (dist/), started and serving. */
async function spawnWorker(dir: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'worker', '--config', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => /listening on/.test(out) || (child.exitCode !== null && Promise.reject(new Error(out))), { timeout: 45_000, what: 'worker start' });
  return { stop: async () => void (child.kill('SIGTERM'), await exited) };
}

const N = Number(process.argv[2] ?? 5000);
const IPS = 4;
const redis = redisClient();
const prefix = testPrefix('spray-bytes');
const keys = new Keys(prefix, 64);
const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

const cfg = await writeConfig(prefix);
const worker = await spawnWorker(cfg.dir);
try {
  await waitFor(async () => (await redis.exists(keys.partitionPos(0))) >= 0, { what: 'start' });
  const before = await used();
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < N; i += 500) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(N, i + 500); j++) {
      const ev = {
        type: 'login',
        id: `e${j}`,
        user: `${randomBytes(6).toString('hex')}@example.com`,
        time: t0 + j,
        outcome: 'failure',
        reason: 'unknown_user',
        ip: `203.0.113.${j % IPS}`,
      };
      p.xadd(`${prefix}:login`, '*', 'event', JSON.stringify(ev));
    }
    await p.exec();
  }
  await waitFor(
    async () => (await redis.hlen(keys.partitionState(0))) > 0 && (await engineBehind(redis, keys)) === null && (await redis.xlen(`${prefix}:login`)) >= N,
    { timeout: 120_000, what: 'applied' },
  );
  await new Promise((r) => setTimeout(r, 1500));
  const after = await used();
  const groups = new Map<string, { keys: number; bytes: number; fields: number }>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      const kind = k
        .slice(prefix.length)
        .replace(/\{p\d+\}/, '{p<n>}')
        .replace(/\{ip:[^}]*\}|ip:\{[^}]*\}/, 'ip:{<ip>}')
        .replace(/u:[^:]+@example\.com/, 'u:<user>');
      const g = groups.get(kind) ?? { keys: 0, bytes: 0, fields: 0 };
      g.keys++;
      g.bytes += Number(await redis.memory('USAGE', k, 'SAMPLES', 0));
      const type = await redis.type(k);
      g.fields +=
        type === 'hash'
          ? await redis.hlen(k)
          : type === 'zset'
            ? await redis.zcard(k)
            : type === 'stream'
              ? await redis.xlen(k)
              : type === 'set'
                ? await redis.scard(k)
                : 1;
      groups.set(kind, g);
    }
  } while (cursor !== '0');
  console.log(`N=${N} users, ${IPS} IPs; INFO used_memory +${after - before} B = ${((after - before) / N).toFixed(0)} B/user`);
  for (const [k, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes))
    console.log(
      `${k.padEnd(48)} keys ${String(g.keys).padStart(6)}  members ${String(g.fields).padStart(7)}  bytes ${String(g.bytes).padStart(9)}  ${(g.bytes / N).toFixed(1)} B/user`,
    );
  const st = await redis.hgetall(keys.partitionState(0));
  const [u, v] = Object.entries(st)[0] ?? [];
  console.log('sample state field', u, v?.length, 'bytes');
} finally {
  await worker.stop();
  await cleanup(redis, prefix);
  cfg.remove();
  redis.disconnect();
}
