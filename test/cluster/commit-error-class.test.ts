/**
 * Which commit failures the owner reports as SLOT_MIGRATING (src/redis/slot-moving.ts
 * `slotMoving`: logged as an expected warning, "nothing written"). ioredis gives up after
 * `maxRedirections` whatever the errors were — TRYAGAIN/ASK of a slot move, but also CLUSTERDOWN
 * or a closed connection of a failover — with "Too many Cluster redirections. Last error: <it>".
 * Only the first is a slot move: a failover's commit failure (which may have been written before
 * the connection closed) stays an error, as docs/operations.md's Failover says (`commit failed`).
 * Was: every "Too many Cluster redirections" counted as a slot move.
 *
 * The errors are real ioredis ones (no auto-pipelining, as the worker's cluster connections): a
 * script on the shared cluster answers each reply as a node
 * would (read-only: it writes nothing), and the client redirects until it gives up.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotMoving } from '../../src/redis/slot-moving.js';
import { clusterClient, requireCluster } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/commit-error-class');
const key = `${testPrefix('commit-error-class')}:{x}`;

describe.skipIf(!up)('commit errors classified as a slot move', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = clusterClient({ enableAutoPipelining: false, maxRedirections: 2, retryDelayOnTryAgain: 5, retryDelayOnClusterDown: 5, retryDelayOnFailover: 5 });
  });
  afterAll(() => cluster?.disconnect());

  /** The error ioredis gives for a command every node answers `reply` to. */
  async function failure(reply: string): Promise<Error> {
    const err = await cluster.eval('return redis.error_reply(ARGV[1])', 1, key, reply).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!err) throw new Error(`no error for ${reply}`);
    return err;
  }

  it('a slot move, also once ioredis gave up redirecting', async () => {
    const tryAgain = await failure('TRYAGAIN Multiple keys request during rehashing of slot');
    expect(tryAgain.message).toMatch(/^Too many Cluster redirections/);
    expect(slotMoving(tryAgain)).toBe(true);
  });

  it('not a failover: CLUSTERDOWN as the last error', async () => {
    // ioredis retries a CLUSTERDOWN on a random node, then follows its MOVED: the last error is the slot's
    // CLUSTERDOWN most of the time, now and then a random node's MOVED. The case looked at is the first.
    let down = await failure('CLUSTERDOWN The cluster is down');
    for (let i = 0; i < 20 && !/CLUSTERDOWN/.test(down.message); i++) down = await failure('CLUSTERDOWN The cluster is down');
    expect(down.message).toMatch(/^Too many Cluster redirections\. Last error: .*CLUSTERDOWN/);
    expect(slotMoving(down)).toBe(false);
  });

  it('not a script error that is no cluster refusal', async () => {
    expect(slotMoving(await failure('ERR wrong number of arguments'))).toBe(false);
  });
});
