/**
 * Features added after the cluster suites were written, black box on a Redis Cluster with two
 * worker processes: a deleted SSF stream's delivery records removed on every master, the stream
 * fence across workers, the upkeep's session index prune, and GET/DELETE /v1/sessions/{id}?user=.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { streamReceiverName } from '../../src/ssf/streams.js';
import { CLUSTER_NODES, clusterClient, nodeOfKey, requireCluster } from '../helpers/cluster.js';
import { dlpEvent, edrEvent, endClusterRun, getFrom } from '../helpers/cluster-run.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { sessionLogin, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const up = await requireCluster('cluster/recent-features');
const prefix = testPrefix('clu-recent');
const SSF_TOKEN = 'clu-recent-ssf-token-0123456789abcdef';
const HOUR = 3_600_000;

describe.skipIf(!up)('recent features on a Redis Cluster with two workers', () => {
  let cluster: Cluster;
  let receiver: TestReceiver;
  let cfg: TestConfig;
  const workers: WorkerProcess[] = [];
  const keys = new Keys(prefix, 64);
  const t0 = Date.now() - 4 * HOUR;

  const post = async (w: WorkerProcess, evs: unknown[]): Promise<void> => {
    const r = await fetch(`${w.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(evs),
    });
    expect(r.status).toBe(202);
  };
  const send = async (w: WorkerProcess, method: string, path: string): Promise<{ status: number; json: any }> => {
    const r = await fetch(`${w.url}${path}`, { method, headers: { authorization: `Bearer ${cfg.adminToken}` }, signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    return { status: r.status, json: text.startsWith('{') ? JSON.parse(text) : text };
  };

  beforeAll(async () => {
    cluster = clusterClient();
    receiver = await startReceiver();
    cfg = await writeTestConfig(prefix, {
      redis: { cluster: CLUSTER_NODES, prefix },
      http: { ssf_tokens: [SSF_TOKEN] },
      ssf: { allowed_endpoints: ['127.0.0.1'], timeout: '10s' },
      state: { sweep_interval: '100ms' },
    });
    for (const id of ['rec-a', 'rec-b']) workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: id, RISKSTREAM_CONSUMER: id }));
    receiver.setJwks(`${workers[0]!.url}/.well-known/jwks.json`);
  }, 120_000);

  afterAll(async () => {
    expect(await endClusterRun({ prefix, cluster, receiver, cfg, workers })).toBe(0);
  }, 60_000);

  it("a deleted stream's field leaves every user's delivery records, on every master", async () => {
    const api = apiClient(() => workers[0]!.url, SSF_TOKEN);
    const gone = (await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${receiver.url}/gone` }, events_requested: [CAEP_RISK] })).json
      .stream_id as string;
    const kept = (await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${receiver.url}/kept` }, events_requested: [CAEP_RISK] })).json
      .stream_id as string;
    // Four users whose records are on each master.
    const byMaster = new Map<number, string[]>();
    for (let i = 0; i < 200; i++) {
      const u = `rec-del-${i}@example.com`;
      const m = await nodeOfKey(keys.userDelivered(u), cluster);
      const list = byMaster.get(m) ?? [];
      if (list.length < 4) byMaster.set(m, [...list, u]);
    }
    const users = [...byMaster.values()].flat();
    expect([byMaster.size, users.length]).toEqual([3, 12]);
    await post(
      workers[1]!,
      users.map((u, i) => dlpEvent(u, `rd-${i}`, t0)),
    );
    const [g, k] = [streamReceiverName(gone), streamReceiverName(kept)];
    await waitFor(async () => (await Promise.all(users.map((u) => cluster.hget(keys.userDelivered(u), g)))).every((v) => v !== null), {
      timeout: 30_000,
      what: 'SETs delivered to the stream',
    });
    expect((await apiClient(() => workers[1]!.url, SSF_TOKEN)('DELETE', `/ssf/streams?stream_id=${gone}`)).status).toBe(204);
    await waitFor(
      async () => {
        for (const u of users) if ((await cluster.hexists(keys.userDelivered(u), g)) || (await cluster.hexists(keys.userEnqueued(u), g))) return false;
        return true;
      },
      { timeout: 15_000, what: "the deleted stream's fields removed" },
    );
    for (const u of users) expect(await cluster.hget(keys.userEnqueued(u), k)).not.toBeNull();
    expect((await api('DELETE', `/ssf/streams?stream_id=${kept}`)).status).toBe(204);
  }, 90_000);

  it('a stream paused through one worker answers only once the push the other decided on has ended', async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((r) => (release = r));
    let arrived = 0;
    let ended = false;
    const slow = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        arrived++;
        void held.then(() => {
          ended = true;
          res.writeHead(202).end();
        });
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
      const api = apiClient(() => workers[0]!.url, SSF_TOKEN);
      const id = (await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: url }, events_requested: [CAEP_RISK] })).json.stream_id as string;
      await post(workers[0]!, [edrEvent('rec-fence@example.com', 'rf-1', t0)]);
      await waitFor(() => arrived > 0, { timeout: 30_000, what: 'the push held' });
      // Both workers answer the change only after the push ends, whichever pushed.
      const answers = workers.map((w) =>
        apiClient(() => w.url, SSF_TOKEN)('POST', '/ssf/status', { stream_id: id, status: 'paused' }).then((r) => ({ status: r.status, ended })),
      );
      await new Promise((r) => setTimeout(r, 1500));
      release!();
      for (const a of await Promise.all(answers)) expect(a).toEqual({ status: 200, ended: true });
      expect((await api('DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    } finally {
      release?.();
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  }, 90_000);

  it("the upkeep prunes expired sessions from every partition's indexes, with no listing call", async () => {
    const users = Array.from({ length: 12 }, (_, i) => `rec-idx-${i}@example.com`);
    const expires_at = Date.now() + 3000;
    await post(
      workers[1]!,
      users.map((user, i) => JSON.parse(sessionLogin(user, `ri-${i}`, { session: { id: `ri-${i}`, expires_at } }))),
    );
    const indexed = async (): Promise<number> => {
      let n = 0;
      for (const p of keys.partitionList) n += (await cluster.zcard(keys.sessionsByLogin(p))) + (await cluster.zcard(keys.sessionsByExpiry(p)));
      return n;
    };
    await waitFor(async () => (await indexed()) === 24, { timeout: 20_000, what: 'sessions indexed' });
    await waitFor(async () => (await indexed()) === 0, { timeout: 40_000, interval: 500, what: 'expired sessions gone from the partition indexes' });
  }, 90_000);

  it('GET and DELETE /v1/sessions/{id}?user= address one user’s copy of a shared id', async () => {
    const sid = `rec-shared-${prefix}`;
    const expires_at = Date.now() + 24 * HOUR;
    const users = ['rec-sh-a@example.com', 'rec-sh-b@example.com', 'rec-sh-c@example.com'];
    expect(new Set(users.map((u) => keys.partitionOf(u))).size).toBe(3);
    await post(
      workers[0]!,
      users.map((user, i) => JSON.parse(sessionLogin(user, sid, { id: `rs-${i}`, time: Date.now() - 60_000 + i, session: { id: sid, expires_at } }))),
    );
    const get = (w: WorkerProcess, path: string) => getFrom(w, path, cfg.adminToken);
    for (const u of users) await waitFor(async () => (await get(workers[1]!, `/v1/sessions/${sid}?user=${encodeURIComponent(u)}`)).status === 200, { what: u });
    for (const w of workers) expect((await get(w, `/v1/sessions/${sid}?user=${encodeURIComponent(users[1]!)}`)).json.user).toBe(users[1]);
    const del = await send(workers[1]!, 'DELETE', `/v1/sessions/${sid}?user=${encodeURIComponent(users[1]!)}`);
    expect([del.status, del.json.user]).toEqual([200, users[1]]);
    for (const w of workers) {
      expect((await get(w, `/v1/sessions/${sid}?user=${encodeURIComponent(users[1]!)}`)).status).toBe(404);
      expect((await get(w, `/v1/sessions/${sid}?user=${encodeURIComponent(users[0]!)}`)).status).toBe(200);
      expect((await get(w, `/v1/sessions/${sid}?user=${encodeURIComponent(users[2]!)}`)).status).toBe(200);
    }
  }, 60_000);
});
