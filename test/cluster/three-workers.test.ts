/**
 * Three worker processes on the Redis Cluster, started from different startup-node lists (one
 * naming a dead node first, one naming only a replica): each serves and owns partitions; a user
 * whose level goes up, up, reset and up again gets exactly one SET per change at the receiver, in
 * that order, while workers leave (SIGTERM: exit 0, partitions move to the others); `replay
 * --stream` into a hash-tagged extra stream reaches the engine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NODES, clusterClient, mastersOf, requireCluster } from '../helpers/cluster.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { runCli } from '../cli/run.js';
import { dlpEvent, edrEvent, endClusterRun, getFrom } from '../helpers/cluster-run.js';

const up = await requireCluster('cluster/three-workers');
const prefix = testPrefix('clu-three');
const HOUR = 3_600_000;

describe.skipIf(!up)('three workers on a Redis Cluster', () => {
  let cluster: Cluster;
  let receiver: TestReceiver;
  let cfg: TestConfig;
  const workers: WorkerProcess[] = [];
  const extra = `{${prefix}}:replayed`;
  const t0 = Date.now() - 5 * HOUR;

  const get = (w: WorkerProcess, path: string, token = cfg.adminToken): Promise<{ status: number; json: any }> => getFrom(w, path, token);
  const owned = async (w: WorkerProcess): Promise<number> => {
    const m = /^riskstream_engine_partitions_owned\s+(\S+)/m.exec(String((await get(w, '/metrics')).json));
    return Number(m?.[1] ?? NaN);
  };
  const ingest = async (w: WorkerProcess, events: unknown[]): Promise<void> => {
    const r = await fetch(`${w.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(r.status).toBe(202);
  };
  const levelsOf = (user: string): string[] =>
    receiver.received.filter((s) => (s.claims.sub_id as { email?: string }).email === user).map((s) => String(eventOf(s).body.current_level));

  beforeAll(async () => {
    cluster = clusterClient();
    receiver = await startReceiver();
    cfg = await writeTestConfig(prefix, {
      redis: { cluster: CLUSTER_NODES, prefix },
      receivers: [
        { name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/rx`, audience: 'https://rx.test', subject_format: 'email', events: ['risk-level-change'] },
      ],
      streams: { block: '200ms', claim_idle: '2s', extra: [extra] },
    });
    const replica = (await mastersOf())[0]!.replicas[0]!;
    const variants: Array<readonly string[]> = [CLUSTER_NODES, ['redis://127.0.0.1:7999', CLUSTER_NODES[1]!], [`redis://127.0.0.1:${replica}`]];
    const base = parse(readFileSync(join(cfg.dir, 'riskstream.yaml'), 'utf8')) as { redis: Record<string, unknown> };
    for (const [i, nodes] of variants.entries()) {
      const file = join(cfg.dir, `w${i}.yaml`);
      writeFileSync(file, stringify({ ...base, redis: { ...base.redis, cluster: nodes } }));
    }
    for (const i of [0, 1, 2]) {
      // One config file per worker (its own startup nodes); behaviors.yaml sits beside it.
      writeFileSync(join(cfg.dir, 'riskstream.yaml'), readFileSync(join(cfg.dir, `w${i}.yaml`)));
      workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: `three-${i}` }));
    }
    receiver.setJwks(`${workers[0]!.url}/.well-known/jwks.json`);
  }, 180_000);

  afterAll(async () => {
    expect(await endClusterRun({ prefix, cluster, receiver, cfg, workers })).toBe(0);
  }, 60_000);

  it('every worker is ready and the three share the partitions', async () => {
    for (const w of workers) expect((await get(w, '/readyz', '')).status).toBe(200);
    await waitFor(
      async () => {
        const o = await Promise.all(workers.map(owned));
        return o.every((n) => n > 0) && o.reduce((a, b) => a + b, 0) === 64;
      },
      { timeout: 20_000, what: 'partitions shared by three' },
    );
  });

  it('up, up, reset, up: one SET per change in order while workers leave', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `three-${i}@example.com`);
    await ingest(
      workers[0]!,
      users.map((user, i) => dlpEvent(user, `d1-${i}`, t0)),
    );
    for (const u of users)
      await waitFor(async () => (await get(workers[2]!, `/v1/users/${encodeURIComponent(u)}/risk`)).json.level === 'medium', { what: `${u} medium` });
    await ingest(
      workers[1]!,
      users.map((user, i) => edrEvent(user, `e1-${i}`, t0 + HOUR)),
    );
    expect(await workers[0]!.stop('SIGTERM')).toBe(0);
    for (const u of users)
      await waitFor(async () => (await get(workers[2]!, `/v1/users/${encodeURIComponent(u)}/risk`)).json.level === 'high', { what: `${u} high` });
    for (const u of users) {
      const r = await fetch(`${workers[1]!.url}/v1/users/${encodeURIComponent(u)}/risk/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cfg.adminToken}` },
      });
      expect(r.status).toBe(200);
    }
    await waitFor(
      async () => {
        const o = await Promise.all([workers[1]!, workers[2]!].map(owned));
        return o.reduce((a, b) => a + b, 0) === 64;
      },
      { timeout: 20_000, what: 'partitions owned by the two left' },
    );
    await ingest(
      workers[2]!,
      users.map((user, i) => dlpEvent(user, `d2-${i}`, t0 + 2 * HOUR)),
    );
    for (const u of users) await waitFor(() => levelsOf(u).length >= 4, { timeout: 30_000, what: `${u}: four SETs (got ${levelsOf(u).join(',')})` });
    await new Promise((r) => setTimeout(r, 1500));
    for (const u of users) expect([u, levelsOf(u)]).toEqual([u, ['MEDIUM', 'HIGH', 'LOW', 'MEDIUM']]);
  }, 120_000);

  it('replay --stream into a hash-tagged extra stream, with a config naming a dead startup node first', async () => {
    const file = join(cfg.dir, 'replay.ndjson');
    const user = 'three-replay@example.com';
    writeFileSync(
      file,
      JSON.stringify({ type: 'endpoint', user, time: t0, device: { id: 'd' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }) + '\n',
    );
    writeFileSync(join(cfg.dir, 'riskstream.yaml'), readFileSync(join(cfg.dir, 'w1.yaml')));
    const r = await runCli(['replay', file, '--stream', extra, '--config', cfg.dir], { env: { REDIS_URL: '' }, timeoutMs: 40_000 });
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => (await get(workers[1]!, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level === 'high', { what: 'replayed high' });
  }, 60_000);
});
