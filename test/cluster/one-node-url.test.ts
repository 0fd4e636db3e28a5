/**
 * `redis.url` or `REDIS_URL` naming a node of a Redis Cluster (where `redis.cluster` was meant):
 * a one-node connection reaches that node's slots only. The worker's start wrote the keys it
 * reached there, then exited on the first other one with a bare `MOVED <slot> <host:port>`; the
 * CLI printed the same. Both now refuse the node at once, saying to list it in `redis.cluster`,
 * and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { clusterForTests, keyCountsPerMaster, nodeOfKey, requireCluster } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';
import { writeTestConfig } from '../helpers/worker.js';
import { runCli } from '../cli/run.js';

const up = await requireCluster('cluster/one-node-url');
const prefix = testPrefix('clu-one-node');
const REFUSED = /is a node of a Redis Cluster: list its nodes in redis\.cluster/;

describe.skipIf(!up)('a one-node URL naming a Redis Cluster node', () => {
  const c = clusterForTests(prefix);
  const keysLeft = async (): Promise<number> => [...(await keyCountsPerMaster(prefix)).values()].reduce((a, b) => a + b, 0);

  it('the worker exits 1 at its start, naming redis.cluster, having written nothing (found by a black-box audit: MOVED after writing its first keys)', async () => {
    const cfg = await writeTestConfig(prefix);
    try {
      // The node holding the first key a start writes: the old start got that far before MOVED.
      const port = await nodeOfKey(`${prefix}:engine:partitions`, c.cluster);
      const r = await runCli(['worker', '--config', cfg.dir], { env: { REDIS_URL: `redis://127.0.0.1:${port}` }, timeoutMs: 40_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(REFUSED);
      expect(r.stderr).toContain(`at 127.0.0.1:${port}`);
      expect(await keysLeft()).toBe(0);
    } finally {
      cfg.remove();
    }
  }, 60_000);

  it('a CLI command exits 1 with the same reason', async () => {
    const cfg = await writeTestConfig(prefix);
    try {
      const r = await runCli(['risk', 'list', '--config', cfg.dir], { env: { REDIS_URL: 'redis://127.0.0.1:7000' }, timeoutMs: 40_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(REFUSED);
    } finally {
      cfg.remove();
    }
  }, 60_000);
});
