/**
 * HTTP ingest's appends on the Redis Cluster: a body mixing a user's logins and activity goes to
 * two streams. With the two streams in one slot (one hash tag) the ids follow the body's order
 * across both, as on one node (with `*` per XADD a login after 30 others got …-30 and the DLP
 * after it …-0: the router applied the DLP first — an extra MEDIUM SET); in different slots each
 * stream keeps its order and every record is appended once. Each append writes its chunk's marker
 * in its stream's slot (a resend adds nothing).
 */
import { describe, expect, it } from 'vitest';
import { appendInOrder, type AppendRecord } from '../../src/ingest/append-in-order.js';
import { scanKeys, slotOf } from '../../src/redis/client.js';
import { compareKeys, orderKey } from '../../src/partition.js';
import { clusterClient, clusterForTests, CLUSTER_PORTS, nodeOfKey, requireCluster } from '../helpers/cluster.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/ingest-order');
const prefix = testPrefix('cluster-ingest');

/** 30 logins of others, then x's login, x's DLP and x's second login. */
function body(login: string, activity: string): AppendRecord[] {
  const records: AppendRecord[] = [];
  for (let i = 0; i < 30; i++) records.push([login, ['event', `other-${i}`]]);
  records.push([login, ['event', 'x-login']], [activity, ['event', 'x-dlp']], [login, ['event', 'x-login-2']]);
  return records;
}

describe.skipIf(!up)('appendInOrder on a Redis Cluster', () => {
  const c = clusterForTests(prefix);

  const keysLike = async (pattern: string): Promise<string[]> => {
    const found: string[] = [];
    for await (const batch of scanKeys(c.cluster, pattern)) found.push(...batch);
    return found;
  };
  const idsOf = async (stream: string): Promise<Map<string, string>> => new Map((await c.cluster.xrange(stream, '-', '+')).map(([id, f]) => [f[1]!, id]));

  it('streams with one hash tag: ids in the body order across both (the router applies them so)', async () => {
    const streams = { login: `{${prefix}}:login`, activity: `{${prefix}}:activity` };
    const records = body(streams.login, streams.activity);
    await appendInOrder(c.cluster, streams, records);
    const ids = new Map([...(await idsOf(streams.login)), ...(await idsOf(streams.activity))]);
    const keys = records.map(([, f]) => orderKey(ids.get(f[1]!)!, 0));
    for (let i = 1; i < keys.length; i++) expect(compareKeys(keys[i - 1]!, keys[i]!), `record ${i}`).toBeLessThan(0);
    const chunks = await keysLike(`${streams.login}:ingest-chunk:*`);
    expect(chunks).toHaveLength(1);
    expect(await c.cluster.pttl(chunks[0]!)).toBeGreaterThan(0);
  });

  it('streams in different slots: each in order, every record once, a marker in each slot', async () => {
    const streams = { login: `${prefix}:login`, activity: `${prefix}:activity` };
    expect(slotOf(streams.login)).not.toBe(slotOf(streams.activity));
    const records = body(streams.login, streams.activity);
    await appendInOrder(c.cluster, streams, records);
    const login = await c.cluster.xrange(streams.login, '-', '+');
    expect(login.map(([, f]) => f[1])).toEqual(records.filter(([s]) => s === streams.login).map(([, f]) => f[1]));
    expect((await c.cluster.xrange(streams.activity, '-', '+')).map(([, f]) => f[1])).toEqual(['x-dlp']);
    for (const s of [streams.login, streams.activity]) expect(await keysLike(`{${s}}:ingest-chunk:*`)).toHaveLength(1);
  });

  it("a stream's append whose reply was lost (the node connection cut after it ran) is not appended again by the resend", async () => {
    const streams = { login: `${prefix}:r-login`, activity: `${prefix}:r-activity` };
    // Every node reached through a loopback proxy (natMap); the login stream's node cuts once.
    const proxies = await Promise.all(CLUSTER_PORTS.map((port) => startTcpProxy({ host: '127.0.0.1', port })));
    const natMap = Object.fromEntries(CLUSTER_PORTS.map((port, i) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: proxies[i]!.port }]));
    const client = clusterClient({ natMap, enableAutoPipelining: false });
    try {
      await appendInOrder(client, streams, [[streams.login, ['event', 'warm-up']]]); // the script is loaded there
      const proxy = proxies[CLUSTER_PORTS.indexOf(await nodeOfKey(streams.login, c.cluster))]!;
      const cut = proxy.cutAfterRun((sent) => /EVAL|XADD/i.test(sent.toString('latin1')) && sent.includes(streams.login));
      await appendInOrder(client, streams, [
        [streams.login, ['event', 'l1']],
        [streams.activity, ['event', 'a1']],
        [streams.login, ['event', 'l2']],
      ]);
      await cut;
      expect((await c.cluster.xrange(streams.login, '-', '+')).map(([, f]) => f[1])).toEqual(['warm-up', 'l1', 'l2']);
      expect((await c.cluster.xrange(streams.activity, '-', '+')).map(([, f]) => f[1])).toEqual(['a1']);
    } finally {
      client.disconnect();
      await Promise.all(proxies.map((p) => p.close()));
    }
  });
});
