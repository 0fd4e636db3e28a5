/**
 * A worker SIGTERM'd while its SET deliveries wait on a slow receiver (1.5 s a SET), on the Redis
 * Cluster with two workers: it drains and exits 0 in time, the other worker delivers the rest, and
 * the receiver gets exactly one SET per user (none lost, none sent twice).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CLUSTER_NODES, clusterClient, requireCluster } from '../helpers/cluster.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { edrEvent, endClusterRun } from '../helpers/cluster-run.js';

const up = await requireCluster('cluster/sigterm-deliveries');
const prefix = testPrefix('clu-sigterm');

describe.skipIf(!up)('SIGTERM while SETs are in flight to a slow receiver, two workers on the cluster', () => {
  /** Each SET received: its subject and level (answered 202 after 1.5 s). */
  const got: Array<{ user: string; level: string }> = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      const c = decodeJwt(b) as { sub_id: { email: string }; events: Record<string, { current_level: string }> };
      got.push({ user: c.sub_id.email, level: Object.values(c.events)[0]!.current_level });
      setTimeout(() => {
        res.writeHead(202);
        res.end();
      }, 1500);
    });
  });
  const workers: WorkerProcess[] = [];
  let cluster: Cluster | undefined;
  let cfg: TestConfig | undefined;
  afterAll(async () => {
    server.close();
    expect(await endClusterRun({ prefix, ...(cluster ? { cluster } : {}), ...(cfg ? { cfg } : {}), workers })).toBe(0);
  }, 60_000);
  it('the worker drains and exits 0; the other delivers the rest: every user one SET', async () => {
    cluster = clusterClient();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cfg = await writeTestConfig(prefix, {
      redis: { cluster: CLUSTER_NODES, prefix },
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/rx`, audience: 'https://rx.test', subject_format: 'email', events: ['risk-level-change'] }],
      delivery: { backoff_base: '100ms', backoff_max: '1s', concurrency: 4 },
    });
    for (const id of ['st-a', 'st-b']) workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: id }));
    const users = Array.from({ length: 30 }, (_, i) => `st-${i}@example.com`);
    const r = await fetch(`${workers[0]!.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(users.map((u, i) => edrEvent(u, `e-${i}`, Date.now() - 60_000))),
    });
    expect(r.status).toBe(202);
    await waitFor(() => got.length >= 3, { what: 'first deliveries' });
    const t = Date.now();
    expect(await workers[0]!.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t).toBeLessThan(15_000);
    await waitFor(() => new Set(got.map((g) => g.user)).size === users.length, { timeout: 60_000, what: 'a SET for every user' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(got.map((g) => `${g.user} ${g.level}`).sort()).toEqual(users.map((u) => `${u} HIGH`).sort());
  }, 120_000);
});
