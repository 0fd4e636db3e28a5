/**
 * A receiver added by a reload on one of two workers, on the cluster: its SETs taken by the other
 * worker wait (`enabledElsewhere`) even after that other worker, not reloaded yet, starts or
 * reloads again — which rewrites `<prefix>:receivers:known` without the receiver. Each running
 * worker's enabled receivers are recorded under its id (src/ssf/receivers-on.ts); a stopped worker's
 * entry is removed, a dead one drops out with its membership.
 */
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { heartbeatMembers } from '../../src/engine/membership.js';
import { Keys } from '../../src/keys.js';
import { DeliveryState } from '../../src/ssf/delivery-state.js';
import { auditReceivers } from '../../src/ssf/receiver-audit.js';
import { forgetReceiversOn, recordReceiversOn } from '../../src/ssf/receivers-on.js';
import { clusterForTests, requireCluster } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/receivers-on');
const prefix = testPrefix('cluster-receivers-on');
const keys = new Keys(prefix, 64);

function receiver(name: string): ResolvedReceiver {
  return {
    name,
    kind: 'ssf',
    enabled: true,
    endpoint: `http://127.0.0.1:9/${name}`,
    audience: 'https://receiver.test',
    events: ['risk-level-change'],
    alg: 'ES256',
    subject_format: 'email',
  } as ResolvedReceiver;
}

describe.skipIf(!up)('receivers on per worker, on a Redis Cluster', () => {
  const c = clusterForTests(prefix);

  it("a worker not reloaded yet that reloads again does not hide its peer's new receiver; a stopped peer's does", async () => {
    const deps = { redis: c.cluster, keys, audit: new AuditLog(c.cluster, keys.auditStream) };
    const state = new DeliveryState(c.cluster, keys);
    await heartbeatMembers(c.cluster, prefix, 'worker-a', 10_000);
    await heartbeatMembers(c.cluster, prefix, 'worker-b', 10_000);
    // Both run with `old`; worker A is reloaded with `added` as well.
    await auditReceivers(deps, [receiver('old')]);
    await recordReceiversOn(c.cluster, keys, 'worker-b', [receiver('old')]);
    await auditReceivers(deps, [receiver('old'), receiver('added')]);
    await recordReceiversOn(c.cluster, keys, 'worker-a', [receiver('old'), receiver('added')]);
    expect(await state.enabledElsewhere('added')).toBe(true);
    // Worker B reloads (another change, or a restart) with its file not updated yet.
    await auditReceivers(deps, [receiver('old')]);
    await recordReceiversOn(c.cluster, keys, 'worker-b', [receiver('old')]);
    expect(await c.cluster.hget(keys.receiversKnown, 'added')).toBeNull();
    expect(await state.enabledElsewhere('added')).toBe(true);
    expect(await state.enabledElsewhere('never')).toBe(false);
    // Worker A stops: no running worker has it any more.
    await forgetReceiversOn(c.cluster, keys, 'worker-a');
    expect(await state.enabledElsewhere('added')).toBe(false);
    // A worker's entry counts only while it is a member (a dead worker is forgotten).
    await recordReceiversOn(c.cluster, keys, 'worker-gone', [receiver('added')]);
    expect(await state.enabledElsewhere('added')).toBe(false);
  });
});
