import { isCluster, type RedisClient } from './client.js';

/** A command's outcome as a pipeline reports it: `[error, null]` or `[null, reply]`. */
export type Outcome = [Error, null] | [null, unknown];

/**
 * Sends the commands `issue` makes on `redis` (synchronously, in order) together, and returns
 * their outcomes in that order, as a pipeline's `exec()` would. On one node they are issued as
 * plain commands while the connection's socket is corked, so they leave in one write and nothing
 * else can come between them — what a pipeline gives, without making one: an ioredis pipeline on a
 * connection with the scripts defined costs ≈ 20-30 µs to make and about twice the CPU of the same
 * commands sent directly (measured: 3 scripts, 30 XADDs). On a cluster each goes to its node as
 * sent (as `pipeline()` there does).
 */
export async function sendTogether(redis: RedisClient, issue: (r: RedisClient) => Array<Promise<unknown>>): Promise<Outcome[]> {
  const stream = isCluster(redis) ? undefined : redis.stream;
  const cork = stream !== undefined && redis.status === 'ready' && !stream.destroyed && stream.writable;
  if (cork) stream.cork();
  let sent: Array<Promise<unknown>>;
  try {
    sent = issue(redis);
  } finally {
    if (cork) stream.uncork();
  }
  return Promise.all(
    sent.map((p) =>
      p.then(
        (r): Outcome => [null, r],
        (e: Error): Outcome => [e, null],
      ),
    ),
  );
}
