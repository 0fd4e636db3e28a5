/**
 * SIGTERM while the worker's last commit cannot get through (real processes, real Redis): worker A
 * reaches Redis through a loopback proxy that holds the one connection carrying A's commit of its
 * partition (the command never arrives; A's other connections, and new ones, go on). A's drain
 * waits for that commit up to its bound (`streams.block` + 10 s), then releases A's leases on a new
 * connection: worker B takes the partition at its next heartbeat — long before `engine.lease_ttl`
 * (120 s here; the wait below would fail had B waited for it) — and applies the user's events from
 * the committed position, once. The held commit, delivered to Redis after that take-over, is
 * refused by its fence (the lease holds B's token): nothing is doubled or lost. A's claimed worker
 * id (A runs without an explicit one) is released with its leases, not kept for `engine.lease_ttl`.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { criticalDetection, sessionLogin, spawnWorker } from '../helpers/worker.js';
import { waitFor } from '../helpers/redis.js';
import { balanced, fileRuns, newEngineRun, startEngineWorker } from '../helpers/engine-run.js';
import { proxyTestRedis } from '../helpers/tcp-proxy.js';
import { untilQuiet } from '../helpers/quiet.js';
import { parseLeaseToken } from '../../src/engine/lease-keys.js';
import { Keys } from '../../src/keys.js';

const P = 2;
const ENGINE = { partitions: P, lease_ttl: '120s', heartbeat: '300ms' };
const { runs, redis } = fileRuns();

/** The RESP commands (arrays of bulk strings) at the start of `buf`, in order; an incomplete last one left out. */
function commandsIn(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  let i = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf('\r\n', i);
    if (end < 0) return undefined;
    const s = buf.toString('latin1', i, end);
    i = end + 2;
    return s;
  };
  for (;;) {
    const head = line();
    if (!head?.startsWith('*')) return out;
    const args: Buffer[] = [];
    for (let k = Number(head.slice(1)); k > 0; k--) {
      const len = line();
      if (!len?.startsWith('$') || i + Number(len.slice(1)) + 2 > buf.length) return out;
      args.push(buf.subarray(i, i + Number(len.slice(1))));
      i += Number(len.slice(1)) + 2;
    }
    out.push(args);
  }
}

describe('SIGTERM while the last commit is held up', () => {
  it('releases the leases after the bound: another worker takes the partition at once, and the late commit is refused', async () => {
    const run = await newEngineRun('slow-last-commit', ENGINE);
    runs.push(run);
    const { proxy, url } = await proxyTestRedis();
    try {
      const b = await startEngineWorker(run, 'sl-b');
      // No explicit id: A claims `<host>-<n>` (a key with A's pid, PX engine.lease_ttl).
      const a = await spawnWorker(run.cfg.dir, { RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '', REDIS_URL: url });
      run.workers.push(a);
      await balanced(run, [b, a], P, 'two workers');

      const keys = new Keys(run.prefix, P);
      const claims = await redis.keys(keys.engineWorkerId('*'));
      expect(claims).toHaveLength(1);
      const aId = claims[0]!.slice(keys.engineWorkerId('').length);
      const ownerOf = async (p: number): Promise<string | undefined> => parseLeaseToken(String(await redis.get(keys.engineLease(`p${p}`))))?.workerId;
      let pa = -1;
      for (let p = 0; p < P && pa < 0; p++) if ((await ownerOf(p)) === aId) pa = p;
      expect(pa).toBeGreaterThanOrEqual(0);
      const user = Array.from({ length: 100 }, (_, i) => `sl-${i}@example.com`).find((x) => keys.partitionOf(x) === pa)!;
      const posKey = keys.partitionPos(pa);
      const leaseKey = keys.engineLease(`p${pa}`);
      // The commit script's two keys, as they go on the wire (EVALSHA, or EVAL with the script's text the first time on a connection).
      const isCommit = (c: Buffer): boolean => c.includes(`$${leaseKey.length}\r\n${leaseKey}\r\n$${posKey.length}\r\n${posKey}\r\n`);

      // A's next commit of its partition never reaches Redis.
      const held = proxy.holdConnection(isCommit);
      await redis.xadd(`${run.prefix}:login`, '*', 'event', sessionLogin(user, 'sl-s1'));
      await redis.xadd(`${run.prefix}:activity`, '*', 'event', criticalDetection(user));
      await Promise.race([
        held,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`A's commit never sent; A: ${a.output().slice(-3000)}`)), 30_000)),
      ]);

      const exited = a.stop('SIGTERM');
      await waitFor(async () => (await ownerOf(pa)) === 'sl-b', { timeout: 40_000, interval: 100, what: `partition ${pa} taken by sl-b` }).catch(
        (err: Error) => {
          throw new Error(`${err.message}; A: ${a.output().slice(-6000)}`);
        },
      );
      // A's drain gave up on its last commit (SHUTDOWN_TIMEOUT): exit 1.
      expect(await exited).toBe(1);
      run.workers = run.workers.filter((w) => w !== a);
      // Its claimed id went with the leases (it was kept for engine.lease_ttl, 120 s, after a stop that overran).
      expect(await redis.exists(claims[0]!)).toBe(0);

      const get = async <T>(path: string): Promise<T> =>
        (await (await fetch(`${b.url}${path}`, { headers: { authorization: `Bearer ${run.cfg.adminToken}` } })).json()) as T;
      const view = async (): Promise<unknown> => ({
        risk: await get<{ level: string; version: number }>(`/v1/users/${encodeURIComponent(user)}/risk`).then((r) => [r.level, r.version]),
        events: (await get<{ events: Array<{ kind: string }> }>(`/v1/users/${encodeURIComponent(user)}/events`)).events.map((e) => e.kind),
        sessions: (await get<{ sessions: Array<{ session_id: string }> }>(`/v1/users/${encodeURIComponent(user)}/sessions`)).sessions.map((s) => s.session_id),
        pos: await redis.hget(posKey, 'pos'),
      });
      await waitFor(async () => ((await view()) as { risk: unknown[] }).risk[0] === 'high', { timeout: 30_000, what: `${user} high through sl-b` });
      await untilQuiet(redis as Redis, { prefix: run.prefix, partitions: P, users: [user] });
      const applied = await view();
      expect(applied).toMatchObject({ risk: ['high', 1], events: ['change', 'hit'], sessions: ['sl-s1'] });

      // The held commit reaches Redis now, after the take-over: refused by its fence, it writes nothing.
      const late = commandsIn(proxy.heldBytes()).filter(
        ([name, , , lease, pos]) => /^eval(sha)?$/i.test(String(name)) && String(lease) === leaseKey && String(pos) === posKey,
      );
      expect(late.length).toBeGreaterThan(0);
      for (const [name, ...args] of late) expect(await redis.callBuffer(String(name), ...args)).toBe(-1);
      expect(await view()).toEqual(applied);
    } finally {
      await proxy.close();
    }
  }, 150_000);
});
