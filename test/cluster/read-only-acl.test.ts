/**
 * docs/operations.md: the CLI commands that only read run as a read-only Redis user — on a Redis
 * Cluster too, with the rules that page gives for one (read from it here, so the page and this test
 * cannot drift apart). ACL users live on each node: the test creates them on all six and removes
 * them afterwards. test/cli/read-only-acl.test.ts is the one-node case.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { CLUSTER_PORTS, clusterForTests, requireCluster, withNode } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { login, settings } from '../sessions/helpers.js';
import { runCli } from '../cli/run.js';
import { clusterClient as workerClusterClient, ready } from '../../src/runtime/connections.js';

const up = await requireCluster('cluster/read-only-acl');
const prefix = testPrefix('clu-ro-acl');
const DOC = readFileSync(join(resolve(import.meta.dirname, '../..'), 'docs/operations.md'), 'utf8');
/** The read-only user's rules as docs/operations.md gives them, with what it adds on a cluster. */
const base = /`ACL SETUSER <name> on ><password> ([^`]+)`/.exec(DOC)?.[1]?.split(' ') ?? [];
const onCluster = /on a Redis Cluster also\s+`([^`]+)`/.exec(DOC)?.[1]?.split(' ') ?? [];
const READER = `${prefix}-reader`;
const BASE_ONLY = `${prefix}-base-only`;
const NO_INFO = `${prefix}-no-info`;
const PASSWORD = 'reader-password-0123';
const USERS = ['ro-a@example.com', 'ro-b@example.com', 'ro-c@example.com', 'ro-d@example.com'];

describe.skipIf(!up)('read-only CLI commands as a read-only Redis user on a Redis Cluster', () => {
  const c = clusterForTests(prefix);
  const cfgs: Record<string, TestConfig> = {};
  const onEveryNode = (...args: string[]) => Promise.all(CLUSTER_PORTS.map((p) => withNode(p, (n) => n.call('ACL', ...args))));

  beforeAll(async () => {
    expect(base).toContain('+@read');
    await onEveryNode('SETUSER', READER, 'on', `>${PASSWORD}`, ...base, ...onCluster);
    await onEveryNode('SETUSER', BASE_ONLY, 'on', `>${PASSWORD}`, ...base);
    await onEveryNode('SETUSER', NO_INFO, 'on', `>${PASSWORD}`, ...base, '+cluster|slots');
    for (const user of [READER, BASE_ONLY, NO_INFO])
      cfgs[user] = await writeTestConfig(prefix, { redis: { cluster: [`redis://${user}:${PASSWORD}@127.0.0.1:${CLUSTER_PORTS[0]}`], prefix } });
    // Sessions of users in partitions on different masters; one expires: its index members stay stale.
    const store = new SessionStore(c.cluster, new Keys(prefix));
    const now = Date.now();
    await store.put(USERS.map((user, i) => buildIdentity(login({ user, sessionId: `s-live-${i}`, time: now - 1000 }), settings())!));
    await store.put([buildIdentity(login({ user: USERS[0], sessionId: 's-gone', time: now - 1000, expiresAt: now + 300 }), settings())!]);
    await new Promise((r) => setTimeout(r, 500));
  }, 30_000);

  afterAll(async () => {
    await onEveryNode('DELUSER', READER, BASE_ONLY, NO_INFO).catch(() => undefined);
    for (const cfg of Object.values(cfgs)) cfg.remove();
  });

  const run = (user: string, args: string[]) => runCli([...args, '--config', cfgs[user]!.dir], { env: { REDIS_URL: '' }, timeoutMs: 40_000 });

  it.each([[['sessions', 'list']], [['sessions', 'show', 's-live-2']], [['risk', 'list']], [['audit', 'tail', '-n', '5']]])(
    '%j exits 0 with the documented rules (found by a black-box audit: the cluster client may not load the slot map, exit 1)',
    async (args) => {
      const r = await run(READER, args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      if (args[0] === 'sessions') {
        const sessions = r.stdout.split('\nDevices')[0]!;
        expect(sessions).toContain('s-live-2');
        expect(sessions).not.toContain('s-gone');
        if (args[1] === 'list') for (const i of [0, 1, 2, 3]) expect(sessions).toContain(`s-live-${i}`);
      }
    },
    60_000,
  );

  it('a user without the cluster rules is told why it cannot connect: the node refused CLUSTER SLOTS (NOPERM), not only "Failed to refresh slots cache"', async () => {
    const r = await run(BASE_ONLY, ['sessions', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOPERM/);
    expect(r.stderr).toContain('cluster|slots');
    expect(r.stderr).not.toContain(PASSWORD);
  }, 60_000);

  it('a user that may read the slot map but not CLUSTER INFO (the ready check) is told so, not "no answer within 5000 ms"', async () => {
    const r = await run(NO_INFO, ['sessions', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CLUSTER INFO on 127\.0\.0\.1:\d+: NOPERM .*'cluster\|info'/);
    expect(r.stderr).not.toContain(PASSWORD);
  }, 60_000);

  it.each([
    [BASE_ONLY, /\(last error: Failed to refresh slots cache \(last node error: NOPERM .*'cluster\|slots'/],
    [NO_INFO, /\(last error: CLUSTER INFO on 127\.0\.0\.1:\d+: NOPERM .*'cluster\|info'/],
  ])("the worker's start names the node's refusal too (%s)", async (user, want) => {
    const redis = workerClusterClient([`redis://${user}:${PASSWORD}@127.0.0.1:${CLUSTER_PORTS[0]}`], 'test');
    redis.on('error', () => undefined);
    const err = await ready(redis, 3000).then(
      () => undefined,
      (e: Error) => e,
    );
    redis.disconnect();
    expect(err?.message).toMatch(/not ready after 3000 ms/);
    expect(err?.message).toMatch(want);
    expect(err?.message).not.toContain(PASSWORD);
  });
});
