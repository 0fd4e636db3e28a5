/**
 * An admin reset sent to a worker while the user's partition is between two owners (released by
 * one worker, not yet taken by the next: a worker joining or leaving, a crashed one's lease just
 * expired) and input for the user waits: the workers run, so the reset is applied by the partition's
 * next owner in order with that input and answered 200 — not 503 "queued behind input no worker has
 * processed yet … when a worker runs" after 2 s, as when no worker runs at all. Real worker process,
 * real Redis; the next owner is held back by a member that heartbeats and takes nothing (a worker
 * still starting) until the reset is queued.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { feed, fileRuns, metric, newEngineRun, startEngineWorker } from '../helpers/engine-run.js';
import { assign } from '../../src/engine/assignment.js';
import { ROUTER_RESOURCE } from '../../src/engine/router.js';
import { Keys } from '../../src/keys.js';

const P = 8;
const ENGINE = { partitions: P, lease_ttl: '2s', heartbeat: '300ms' };
const { runs, redis } = fileRuns();

describe('admin reset while the partition changes owner', () => {
  it('is applied by the next owner after the input before it, and answered 200', async () => {
    const run = await newEngineRun('reset-handover', ENGINE);
    runs.push(run);
    const keys = new Keys(run.prefix, P);
    const w = await startEngineWorker(run, 'rh-w');
    const GHOST = 'rh-ghost';
    const owners = assign([ROUTER_RESOURCE, ...keys.partitionList.map((p) => `p${p}`)], ['rh-w', GHOST]);
    const user = Array.from({ length: 200 }, (_, i) => `rh-${i}@example.com`).find((u) => owners.get(`p${keys.partitionOf(u)}`) === GHOST)!;
    const lease = keys.engineLease(`p${keys.partitionOf(user)}`);
    const edr = (id: string) => ({
      stream: 'activity' as const,
      event: {
        type: 'endpoint',
        id,
        user,
        time: new Date(Date.now() - 1000).toISOString(),
        device: { id: 'd-1' },
        vendor: 'crowdstrike',
        detection: 'malware',
        severity: 'critical',
      },
    });
    const headers = { authorization: `Bearer ${run.cfg.adminToken}` };
    const risk = async () =>
      (await (await fetch(`${w.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers })).json()) as { level?: string; version?: number };
    await feed(redis, run, [edr('rh-1')]);
    await waitFor(async () => (await risk()).level === 'high', { timeout: 20_000, what: 'the first detection applied' });

    // A member that heartbeats (Redis's clock, as a worker does) and takes nothing: the worker gives it its share.
    const beat = async (): Promise<void> => {
      const [s, us] = await redis.time();
      await redis.zadd(keys.engineMembers, Number(s) * 1000 + Math.floor(Number(us) / 1000), GHOST);
    };
    await beat();
    let ghost: NodeJS.Timeout | undefined = setInterval(() => void beat(), 200);
    try {
      await waitFor(async () => (await redis.exists(lease)) === 0, { timeout: 20_000, what: "the user's partition released to the new member" });
      // Input of the user that no owner applied yet: the reset must come after it.
      await feed(redis, run, [edr('rh-2')]);
      const reset = fetch(`${w.url}/v1/users/${encodeURIComponent(user)}/risk/reset`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'vouched' }),
      });
      await waitFor(async () => (await redis.xlen(keys.controlStream)) > 0, { timeout: 10_000, what: 'the reset queued' });
      // The new member "finishes starting" a while later; meanwhile the reset waits for an owner.
      await new Promise((r) => setTimeout(r, 4000));
      clearInterval(ghost);
      ghost = undefined;
      await redis.zrem(keys.engineMembers, GHOST);
      const res = await reset;
      const body = (await res.json()) as { level?: string; error?: string };
      expect({ status: res.status, body }).toMatchObject({ status: 200, body: { level: 'low' } });
    } finally {
      if (ghost) clearInterval(ghost);
      await redis.zrem(keys.engineMembers, GHOST);
    }
    // rh-2 (routed before the reset) was applied first: the reset is the user's last change, the level low.
    expect(await risk()).toMatchObject({ level: 'low' });
    await waitFor(async () => (await metric(run, w, 'riskstream_engine_partitions_owned')) === P, {
      timeout: 10_000,
      what: 'the worker owning every partition again',
    });
  }, 60_000);
});
