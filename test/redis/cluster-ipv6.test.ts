/**
 * A Redis Cluster startup node given by an IPv6 literal (`redis://[::1]:port`), which a one-node
 * `redis.url` of the same form already reached: the cluster client was handed the URL's hostname
 * with its brackets (`[::1]`), which no connect resolves, so every command failed with `cannot
 * connect to Redis: Failed to refresh slots cache`. A one-node cluster of this test's own (listening
 * on 127.0.0.1 and ::1, every slot its own); skipped where ::1 cannot be listened on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { runCli } from '../cli/run.js';

/** Whether `port` (or any, with 0) can be listened on at `host`. */
const listenable = (host: string, port = 0): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });

const ipv6 = await listenable('::1');
const dir = mkdtempSync(join(tmpdir(), 'riskstream-ipv6-cluster-'));
let node: ChildProcess | undefined;
let port = 0;

describe.skipIf(!ipv6)('a Redis Cluster startup node given as an IPv6 literal', () => {
  beforeAll(async () => {
    const start = Math.floor(Math.random() * 100);
    for (let i = 0; i < 100 && !port; i++) {
      const p = 17_400 + ((start + i) % 100);
      if ((await listenable('127.0.0.1', p)) && (await listenable('::1', p)) && (await listenable('127.0.0.1', p + 10_000))) port = p;
    }
    if (!port) throw new Error('no free port in 17400-17499');
    node = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1 ::1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1'],
        ...['--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no'],
      ],
      { stdio: 'ignore' },
    );
    const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => undefined);
    try {
      await waitFor(
        () =>
          admin.connect().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000, what: 'the node' },
      );
      await admin.cluster('ADDSLOTSRANGE', 0, 16383);
      await waitFor(async () => /^cluster_state:ok\r?$/m.test(String(await admin.cluster('INFO'))), { timeout: 10_000, what: 'cluster_state:ok' });
    } finally {
      admin.disconnect();
    }
  }, 30_000);

  afterAll(async () => {
    if (node && node.exitCode === null && node.signalCode === null) {
      const exited = new Promise((r) => node!.once('exit', r));
      node.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the cluster as the same URL reaches one node (found by a black-box audit: every command refused)', async () => {
    const cfg = join(dir, 'config');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, 'riskstream.yaml'), `redis:\n  cluster: ["redis://[::1]:${port}"]\n  prefix: ipv6-cluster\n`);
    writeFileSync(join(cfg, 'behaviors.yaml'), '{}\n');
    const r = await runCli(['risk', 'list', '--config', cfg], { env: { REDIS_URL: '' }, timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, '(none)']);
  }, 60_000);
});
