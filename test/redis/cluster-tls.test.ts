/**
 * A Redis Cluster over TLS whose certificates name the nodes by host name (as managed TLS clusters'
 * do): three redis-server nodes of this test's own (TLS only, announcing `localhost`), a CA of its
 * own (openssl) given to the CLI as NODE_EXTRA_CA_CERTS. The cluster client resolved a startup
 * node's name to its IP address before connecting, so TLS checked the certificate against
 * 127.0.0.1 and every node was refused: `cannot connect to Redis: Failed to refresh slots cache`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig } from '../helpers/worker.js';
import { getFrom } from '../helpers/cluster-run.js';
import { runCli } from '../cli/run.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'riskstream-tls-cluster-'));
const nodes: ChildProcess[] = [];
let ports: number[] = [];

/** Whether `port` (and its cluster bus port, +10000) can be listened on at 127.0.0.1. */
async function free(port: number): Promise<boolean> {
  for (const p of [port, port + 10_000]) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/** Three free ports in 17300-17399 (their bus ports 27300-27399). */
async function threePorts(): Promise<number[]> {
  const out: number[] = [];
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100 && out.length < 3; i++) {
    const p = 17_300 + ((start + i) % 100);
    if (await free(p)) out.push(p);
  }
  if (out.length < 3) throw new Error('no three free ports in 17300-17399');
  return out;
}

/** A CA and a node certificate for `localhost` (DNS name only, no IP address). */
async function certificates(): Promise<void> {
  const o = (...a: string[]) => run('openssl', a, { cwd: dir });
  await o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=riskstream-test-ca');
  await o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
  await o('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.crt', '-days', '1', '-extfile', 'ext.cnf');
}

const tlsCli = (port: number, ...args: string[]) =>
  run('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 });

describe('a Redis Cluster over TLS, its nodes named by host name in their certificates', () => {
  beforeAll(async () => {
    await certificates();
    ports = await threePorts();
    for (const p of ports) {
      const child = spawn(
        'redis-server',
        [
          ...['--bind', '127.0.0.1', '--port', '0', '--tls-port', String(p), '--tls-cluster', 'yes', '--tls-auth-clients', 'no'],
          ...['--tls-cert-file', join(dir, 'node.crt'), '--tls-key-file', join(dir, 'node.key'), '--tls-ca-cert-file', join(dir, 'ca.crt')],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${p}.conf`), '--cluster-node-timeout', '2000'],
          ...['--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'],
          ...['--dir', dir, '--save', '', '--appendonly', 'no'],
        ],
        { stdio: 'ignore' },
      );
      nodes.push(child);
    }
    await waitFor(
      async () =>
        (
          await Promise.all(
            ports.map((p) =>
              tlsCli(p, 'PING').then(
                (r) => r.stdout.trim() === 'PONG',
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      {
        timeout: 15_000,
        what: 'the TLS nodes',
      },
    );
    await run('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitFor(
      async () => {
        for (const p of ports) if (!/^cluster_state:ok\r?$/m.test((await tlsCli(p, 'CLUSTER', 'INFO')).stdout)) return false;
        return true;
      },
      { timeout: 20_000, interval: 200, what: 'cluster_state:ok' },
    );
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGKILL');
    await Promise.all(nodes.map((n) => (n.exitCode === null && n.signalCode === null ? new Promise((r) => n.once('exit', r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the CLI connects by the startup node’s name and reads every master (found by a black-box audit: every node refused)', async () => {
    const cfg = join(dir, 'config');
    await run('mkdir', ['-p', cfg]);
    writeFileSync(join(cfg, 'riskstream.yaml'), `redis:\n  cluster: [rediss://localhost:${ports[0]}]\n  prefix: tls-cluster\n`);
    writeFileSync(join(cfg, 'behaviors.yaml'), '{}\n');
    const env = { REDIS_URL: '', NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt') };
    const list = await runCli(['risk', 'list', '--config', cfg], { env, timeoutMs: 40_000 });
    expect(list.stderr).toBe('');
    expect([list.code, list.stdout.trim()]).toEqual([0, '(none)']);
    // A write that reaches a stream's master, and a read of every partition on every master.
    const events = join(cfg, 'events.ndjson');
    writeFileSync(events, `${JSON.stringify({ type: 'login', user: 'tls@example.com', time: Date.now(), outcome: 'success' })}\n`);
    const replay = await runCli(['replay', events, '--config', cfg], { env, timeoutMs: 40_000 });
    expect([replay.code, replay.stderr]).toEqual([0, '']);
    expect((await tlsCli(ports[0]!, '-c', 'XLEN', 'tls-cluster:login')).stdout.trim()).toBe('1');
    const sessions = await runCli(['sessions', 'list', '--config', cfg], { env, timeoutMs: 40_000 });
    expect([sessions.code, sessions.stderr]).toEqual([0, '']);
  }, 120_000);

  it('a worker runs on it: ready, and an event ingested over HTTP raises its user', async () => {
    const cfg = await writeTestConfig(testPrefix('tls-cluster'), { redis: { cluster: [`rediss://localhost:${ports[0]}`], prefix: 'tls-cluster-w' } });
    const worker = await spawnWorker(cfg.dir, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'), REDIS_URL: '' });
    try {
      await waitFor(async () => (await getFrom(worker, '/readyz', '')).status === 200, { timeout: 30_000, what: 'ready' });
      const user = 'tls-worker@example.com';
      const event = { type: 'endpoint', user, time: Date.now() - 1000, device: { id: 'd' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' };
      const res = await fetch(`${worker.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
        body: JSON.stringify([event]),
      });
      expect(res.status).toBe(202);
      await waitFor(async () => (await getFrom(worker, `/v1/users/${encodeURIComponent(user)}/risk`, cfg.adminToken)).json.level === 'high', {
        timeout: 30_000,
        what: 'the user high',
      });
      expect(await worker.stop()).toBe(0);
    } finally {
      await worker.stop();
      cfg.remove();
    }
  }, 120_000);
});
