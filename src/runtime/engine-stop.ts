/**
 * The end of an engine's stop: once its loops finished (the owner's last commit sent and
 * answered), its leases are released. A last commit that overruns its bound no longer holds them:
 * they are released then, on a connection of their own (this worker's may be what holds the commit
 * up), so the other workers take the partitions at their next heartbeat, not after
 * `engine.lease_ttl` (and the worker's claimed id with them: a restart gets it back at once). Fenced: the commit script checks the lease's token, so the late commit,
 * reaching Redis after that, finds another token (or none) and writes nothing — its entries stay
 * in the partition stream for the next owner, applied once.
 */
import type { LeaseManager } from '../engine/leases.js';
import type { Logger } from '../obs/logger.js';
import type { StopBound } from './engine-types.js';
import { settlesWithin } from './shutdown.js';

/** How long a release after an overrun last commit may take (ms): the drain's engine step allows it beyond the commit's bound. */
export const LEASE_RELEASE_MS = 2000;

/**
 * The last commit's bound and the late release's, within `shutdownMs` (`shutdown_timeout`): the
 * commit gets up to `blockMs` + 10 s, leaving {@link LEASE_RELEASE_MS} for the release — but never
 * less than half of `shutdownMs` (a `shutdown_timeout` of 2 s or less left it 0 ms: every stop
 * "overran" it and released its leases before its last commit, which its fence then refused).
 */
export function stopBounds(shutdownMs: number, blockMs: number): { commitMs: number; releaseMs: number } {
  const commitMs = Math.max(0, Math.min(blockMs + 10_000, Math.max(shutdownMs - LEASE_RELEASE_MS, shutdownMs / 2)));
  return { commitMs, releaseMs: Math.max(0, Math.min(LEASE_RELEASE_MS, shutdownMs - commitMs)) };
}

/**
 * Releases `leases` after `finished` — or, with `bound`, once `bound.commitMs` passed without that
 * done (the last commit, or the release on this worker's connection, held up): then on a new
 * connection; then waits for the rest.
 */
export async function releaseAfterLoops(finished: Promise<void>, leases: LeaseManager, logger: Logger, bound?: StopBound): Promise<void> {
  const inOrder = (async () => {
    await finished;
    await leases.stop();
  })();
  if (!bound || (await settlesWithin(inOrder, bound.commitMs))) return inOrder;
  logger.warn({ ms: bound.commitMs }, 'engine: the last commit overran its bound; leases released (a commit that lands later is refused by its fence)');
  const via = bound.connection();
  const released = Promise.all([leases.stop(via), bound.alsoRelease?.(via)]).catch((err: unknown) =>
    logger.warn({ err }, 'engine: leases (or the worker id) not released (they expire after engine.lease_ttl)'),
  );
  await settlesWithin(released, bound.releaseMs);
  via.disconnect();
  await inOrder;
}
