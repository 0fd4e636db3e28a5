/**
 * Three workers on one Redis, as an admin and a load balancer see them: every worker answers the
 * admin API alike (risk, events, sessions), a session revoked and a user reset through a worker
 * that does not own the user's partition take effect everywhere (a session-revoked SET sent), and a
 * worker leaving with SIGTERM — the router's — hands its partitions and the router over at once,
 * not after `engine.lease_ttl` (30 s here): the others own everything and route again well before
 * its leases could have expired, and stay ready. Real processes, real Redis, a loopback receiver.
 */
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, SENTINEL_APP } from '../helpers/engine-workload.js';
import { balanced, differences, feed, fileRuns, metric, newEngineRun, outcomes, settle, startEngineWorker, type EngineRun } from '../helpers/engine-run.js';
import { eventOf } from '../helpers/receiver.js';
import { parseLeaseToken } from '../../src/engine/lease-keys.js';
import { Keys } from '../../src/keys.js';
import type { WorkerProcess } from '../helpers/worker.js';

const P = 16;
// A lease TTL far above the waits below: a hand-over that waited for it would fail them.
const ENGINE = { partitions: P, lease_ttl: '30s', heartbeat: '500ms' };
const wl = engineWorkload({ users: 40, seed: 77, sessions: true });
const { runs, redis } = fileRuns();

async function api(run: EngineRun, w: WorkerProcess, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${w.url}${path}`, { ...init, headers: { authorization: `Bearer ${run.cfg.adminToken}`, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('several workers on one Redis: the admin API and a worker leaving', () => {
  it('answers alike on every worker, revokes and resets through a non-owner, and hands over at once on SIGTERM', async () => {
    const run = await newEngineRun('scale-admin', ENGINE);
    runs.push(run);
    const ids = ['sa-a', 'sa-b', 'sa-c'];
    const ws = await Promise.all(ids.map((id) => startEngineWorker(run, id)));
    await balanced(run, ws, P, 'three workers');
    await feed(redis, run, wl.events);
    const got = await settle(redis, run, wl);
    expect(got.problems).toEqual([]);
    for (const w of ws) expect(differences(got.outcomes, await outcomes(run, wl, w))).toEqual([]);

    const keys = new Keys(run.prefix, P);
    /** A worker that does not own `user`'s partition. */
    const nonOwner = async (user: string): Promise<WorkerProcess> => {
      const owner = parseLeaseToken(String(await redis.get(keys.engineLease(`p${keys.partitionOf(user)}`))))?.workerId;
      expect(ids).toContain(owner);
      return ws[(ids.indexOf(owner!) + 1) % ws.length]!;
    };

    // A session revoked through a worker that does not own its user's partition.
    const [user, o] = Object.entries(got.outcomes).find(([, x]) => x.sessions.length > 0)!;
    const sid = o.sessions[0]!.split(' ')[0]!;
    const setsBefore = run.receiver.received.length;
    const del = await api(run, await nonOwner(user), `/v1/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE' });
    expect(del).toMatchObject({ status: 200, body: { revoked: true, user } });
    for (const w of ws) {
      expect((await api(run, w, `/v1/sessions/${encodeURIComponent(sid)}`)).status).toBe(404);
      const listed = (await api(run, w, `/v1/users/${encodeURIComponent(user)}/sessions`)).body.sessions as Array<{ session_id: string }>;
      expect(listed.map((s) => s.session_id)).not.toContain(sid);
    }
    await waitFor(() => run.receiver.received.slice(setsBefore).some((s) => eventOf({ claims: decodeJwt(s.token) }).type.endsWith('/session-revoked')), {
      timeout: 20_000,
      what: 'the session-revoked SET',
    });

    // A user reset through a worker that does not own the partition: low everywhere, one version.
    const [high] = Object.entries(got.outcomes).find(([u, x]) => x.level === 'high' && u !== user)!;
    const reset = await api(run, await nonOwner(high), `/v1/users/${encodeURIComponent(high)}/risk/reset`, { method: 'POST', body: '{"reason":"vouched"}' });
    expect(reset).toMatchObject({ status: 200, body: { previous_level: 'high', level: 'low' } });
    for (const w of ws)
      expect((await api(run, w, `/v1/users/${encodeURIComponent(high)}/risk`)).body).toMatchObject({ level: 'low', version: reset.body.version });

    // The router's worker leaves (SIGTERM): the others own every partition and the router at once.
    const routing = await Promise.all(ws.map((w) => metric(run, w, 'riskstream_engine_router_owned')));
    const leaver = ws[routing.indexOf(1)]!;
    const rest = ws.filter((w) => w !== leaver);
    expect(await leaver.stop('SIGTERM')).toBe(0);
    run.workers = run.workers.filter((w) => w !== leaver);
    await balanced(run, rest, P, 'the two left');
    await waitFor(async () => (await Promise.all(rest.map((w) => metric(run, w, 'riskstream_engine_router_owned')))).includes(1), {
      timeout: 15_000,
      what: 'the router taken over',
    });
    const late = 'after-leave@example.com';
    await feed(redis, run, [
      { stream: 'activity', event: { type: 'access', id: 'late-1', user: late, time: new Date().toISOString(), outcome: 'allowed', app: SENTINEL_APP } },
    ]);
    for (const w of rest) {
      await waitFor(async () => (await api(run, w, `/v1/users/${encodeURIComponent(late)}/risk`)).status === 200, {
        timeout: 15_000,
        what: 'an event after the leave applied',
      });
      expect((await fetch(`${w.url}/readyz`)).status).toBe(200);
    }
  }, 90_000);
});
