/**
 * A sign-out's commit on a Redis Cluster: the SEND procedure of engine-commit-n.lua touches the
 * session, its tombstone, the partition's indexes and the user's list, all under the partition's
 * hash tag — one slot, no CROSSSLOT — for an ended session and for a sign-out kept with no login.
 */
import { describe, expect, it } from 'vitest';
import { clusterForTests, requireCluster } from '../helpers/cluster.js';
import { Keys } from '../../src/keys.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/sign-out');
const prefix = testPrefix('cluster-sign-out');
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const USER = 'alice@example.com';

describe.skipIf(!up)('a sign-out on a Redis Cluster', () => {
  const t = clusterForTests(prefix);

  it('ends a stored session and keeps a sign-out with no login, in one slot', async () => {
    const keys = new Keys(prefix, 8);
    const store = new SessionStore(t.cluster, keys, { now: () => NOW });
    const login: SessionIdentity = { session_id: 's-1', user: USER, claims: {}, login_at: NOW - 30 * MIN, expires_at: NOW + 60 * MIN };
    expect(await store.put([login])).toMatchObject({ stored: 1 });
    expect((await store.listUser(USER)).map((s) => s.session_id)).toEqual(['s-1']);
    const ended = { ...login, expires_at: NOW - 10 * MIN, signed_out_at: NOW - 10 * MIN };
    expect(await store.put([ended])).toMatchObject({ signedOut: [{ session_id: 's-1', user: USER }] });
    expect(await store.listUser(USER)).toEqual([]);
    expect(await store.get('s-1')).toBeNull();
    const p = keys.partitionOf(USER);
    expect(await t.cluster.zscore(keys.sessionsByExpiry(p), 's-1')).toBeNull();
    const only: SessionIdentity = {
      session_id: 's-2',
      user: USER,
      claims: {},
      login_at: NOW - 5 * MIN,
      expires_at: NOW - 5 * MIN,
      signed_out_at: NOW - 5 * MIN,
      sign_out_only: true,
    };
    await store.put([only]);
    expect(JSON.parse((await t.cluster.get(keys.session(p, 's-2')))!)).toMatchObject({ sign_out_only: true });
  });
});
