/**
 * Issue 17, the end-to-end slice on a Redis Cluster: the same workload run by one worker on one
 * Redis node and by one worker on the local 3-master cluster gives the same per-user outcomes
 * (level, version, hit and change history), the same SETs at the receiver, and the same answers
 * from the admin API's cross-partition views (users by level, all sessions, paginated); the
 * partitions' keys spread over every master.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NODES, clusterClient, keyCountsPerMaster, requireCluster } from '../helpers/cluster.js';
import { redisClient } from '../helpers/redis.js';
import type { Redis } from 'ioredis';
import { engineWorkload } from '../helpers/engine-workload.js';
import { differences, disposeRun, newEngineRun, referenceRun, startEngineWorker, summary, type EngineRun, type Reference } from '../helpers/engine-run.js';
import { waitFor } from '../helpers/redis.js';
import { Keys } from '../../src/keys.js';

const up = await requireCluster('cluster/engine-slice');
const ENGINE = { partitions: 64, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
const wl = engineWorkload({ users: 120, seed: 17 });

/** Every page of a cursor-paginated admin API list. */
async function allPages(run: EngineRun, path: string, field: string, limit: number): Promise<unknown[]> {
  const w = run.workers[0]!;
  const out: unknown[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await fetch(`${w.url}${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      headers: { authorization: `Bearer ${run.cfg.adminToken}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    out.push(...(body[field] as unknown[]));
    cursor = body.next_cursor as string | null;
    if (!cursor) return out;
  }
  throw new Error('pagination did not end');
}

describe.skipIf(!up)('engine on a Redis Cluster: one result', () => {
  let redis: Redis;
  let cluster: Cluster;
  let single: Reference;
  let onCluster: Reference;
  beforeAll(() => {
    redis = redisClient();
    cluster = clusterClient();
  });
  let unpartitioned: EngineRun | undefined;
  /** The bridged list and stream of that run (outside its prefix): deleted once its worker stopped, with the stream's router fence and routed mark. */
  const tag = `{${Date.now()}-bridge}`;
  const list = `${tag}:list`;
  const stream = `${tag}:events`;
  afterAll(async () => {
    if (single) await disposeRun(redis, single.run);
    if (onCluster) await disposeRun(cluster, onCluster.run);
    if (unpartitioned) await disposeRun(cluster, unpartitioned);
    await cluster?.unlink(list, stream, new Keys('unused').routerFence(stream), new Keys('unused').routedTop(stream)); // one hash tag: one slot
    redis?.disconnect();
    cluster?.disconnect();
  }, 60_000);

  it('one node: the reference', async () => {
    const r = await referenceRun(redis, wl, ENGINE, 'slice-node');
    single = r;
    expect(r.problems).toEqual([]);
    console.log(`slice (one node): ${summary(r.outcomes)}`);
  }, 120_000);

  it('the cluster: the same outcomes and SETs as one node, partition keys on every master', async () => {
    const r = await referenceRun(cluster, wl, ENGINE, 'slice-cluster', CLUSTER_NODES);
    onCluster = r;
    expect(r.problems).toEqual([]);
    expect(differences(single.outcomes, r.outcomes)).toEqual([]);
    expect(r.finalLevels).toEqual(single.finalLevels);
    const perMaster = await keyCountsPerMaster(r.run.prefix);
    expect(perMaster.size).toBe(3);
    for (const n of perMaster.values()) expect(n).toBeGreaterThan(0);
  }, 120_000);

  it('cross-partition views read the same through the admin API (users by level, sessions), paginated', async () => {
    for (const level of ['high', 'medium']) {
      const a = (await allPages(single.run, `/v1/users?level=${level}`, 'users', 7)) as Array<{ user: string }>;
      const b = (await allPages(onCluster.run, `/v1/users?level=${level}`, 'users', 7)) as Array<{ user: string }>;
      expect(b.map((u) => u.user).sort()).toEqual(a.map((u) => u.user).sort());
      expect(new Set(b.map((u) => u.user)).size).toBe(b.length); // no row twice across pages
    }
    const sa = (await allPages(single.run, '/v1/sessions', 'sessions', 9)) as Array<{ session_id: string }>;
    const sb = (await allPages(onCluster.run, '/v1/sessions', 'sessions', 9)) as Array<{ session_id: string }>;
    expect(sb.length).toBeGreaterThan(0);
    expect(sb.map((s) => s.session_id).sort()).toEqual(sa.map((s) => s.session_id).sort());
  }, 60_000);

  it("unpartitioned input keeps working on the cluster: HTTP ingest (wait_replicas 1) and a bridged list sharing its stream's hash tag", async () => {
    const run = await newEngineRun(
      'unpart',
      ENGINE,
      {
        // wait_replicas: HTTP ingest answers 202 only once a replica holds the events; the router acks likewise.
        redis: { wait_replicas: 1 },
        streams: { block: '200ms', claim_idle: '2s', extra: [stream] },
        bridge: { lists: { [list]: stream }, interval: '50ms' },
      },
      CLUSTER_NODES,
    );
    unpartitioned = run;
    const w = await startEngineWorker(run, 'unpart-1');
    const t = Date.now() - 60_000;
    const login = (id: string, user: string, dt: number, lat: number, lon: number, country: string): string =>
      JSON.stringify({ type: 'login', id, user, time: t + dt, outcome: 'success', ip: `198.51.100.${dt ? 2 : 1}`, geo: { lat, lon, country } });
    const body = [login('h1', 'http-user@example.com', 0, 40.7, -74, 'US'), login('h2', 'http-user@example.com', 60_000, 35.6, 139.7, 'JP')].join('\n');
    const res = await fetch(`${w.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${run.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 0 });
    await cluster.rpush(list, login('l1', 'list-user@example.com', 0, 51.5, -0.1, 'GB'), login('l2', 'list-user@example.com', 60_000, -33.9, 151.2, 'AU'));
    for (const user of ['http-user@example.com', 'list-user@example.com']) {
      await waitFor(
        async () => {
          const r = await fetch(`${w.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${run.cfg.adminToken}` } });
          return r.status === 200 && ((await r.json()) as { level: string }).level === 'high';
        },
        { timeout: 20_000, what: `${user} high` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; worker output:\n${w.output().slice(-3000)}`);
      });
    }
    expect(await cluster.llen(list)).toBe(0);
  }, 60_000);
});
