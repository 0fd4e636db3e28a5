/**
 * A receiver that never answers must not turn a graceful drain into a failed one. The delivery
 * worker's close waited a fixed 15 s for sends in flight whatever `shutdown_timeout` was: with a
 * `shutdown_timeout` under that, a SIGTERM while a push hung (Redis fine) overran the drain —
 * exit 1, `SHUTDOWN_TIMEOUT`, connections dropped — and the aborted send's `set.retry` audit entry
 * ("not answered before the worker shut down", docs/operations.md "Graceful shutdown") was never
 * written. Its wait is now bounded by what is left of the drain — also when a reload (SIGHUP) was
 * restarting SET delivery, waiting on that same hung send, as the drain began.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AuditLog } from '../../src/audit/audit-log.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { criticalDetection, spawnWorker, writeTestConfig, type TestConfig } from '../helpers/worker.js';

const prefix = testPrefix('shutdown-hung-receiver');
const redis = redisClient();
const sockets: Socket[] = [];
// Reads each push and never answers it.
const hung = createServer((s) => {
  sockets.push(s);
  s.on('error', () => undefined);
  s.resume();
});
let cfg: TestConfig;
let user = 0;

beforeAll(async () => {
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const port = (hung.address() as AddressInfo).port;
  cfg = await writeTestConfig(prefix, {
    shutdown_timeout: '5s',
    receivers: [{ name: 'hung', kind: 'ssf', endpoint: `http://127.0.0.1:${port}/events`, audience: 'aud', timeout: '30s' }],
  });
});

beforeEach(() => sockets.splice(0).forEach((s) => s.destroy()));

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => hung.close(() => r()));
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

it('SIGTERM while a push hangs, shutdown_timeout under 15 s: the send is aborted and retried later, the drain completes, exit 0', async () => {
  const w = await spawnWorker(cfg.dir);
  try {
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(`hung-${++user}@example.com`));
    await waitFor(() => sockets.length > 0 || undefined, { timeout: 20_000, what: 'the SET pushed to the receiver' });
    const code = await w.stop('SIGTERM');
    expect(w.output()).not.toMatch(/SHUTDOWN_TIMEOUT/);
    expect(code).toBe(0);
    const retries = (await new AuditLog(redis, `${prefix}:audit`).list({ action: 'set.retry' })).entries;
    expect(retries.map((e) => e.details)).toContainEqual(
      expect.objectContaining({ receiver: 'hung', outcome: 'network', message: 'not answered before the worker shut down' }),
    );
  } finally {
    w.child.kill('SIGKILL');
  }
}, 60_000);

it('SIGTERM while a reload restarts SET delivery behind a hung push: the drain still completes within shutdown_timeout, exit 0', async () => {
  const w = await spawnWorker(cfg.dir);
  const file = join(cfg.dir, 'riskstream.yaml');
  const original = readFileSync(file, 'utf8');
  try {
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(`hung-${++user}@example.com`));
    await waitFor(() => sockets.length > 0 || undefined, { timeout: 20_000, what: 'the SET pushed to the receiver' });
    // A delivery setting changed: the reload restarts SET delivery, whose close waits on the hung push.
    const main = parse(original) as Record<string, Record<string, unknown>>;
    writeFileSync(file, stringify({ ...main, delivery: { ...main.delivery, concurrency: 7 } }));
    w.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    const code = await w.stop('SIGTERM');
    expect(w.output()).not.toMatch(/SHUTDOWN_TIMEOUT/);
    expect(code).toBe(0);
  } finally {
    w.child.kill('SIGKILL');
    writeFileSync(file, original);
  }
}, 60_000);
