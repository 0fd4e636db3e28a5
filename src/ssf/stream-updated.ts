/** Whether a queued stream-updated SET (SSF 1.0 §8.1.5) still tells its stream's status. */
import type { ResolvedReceiver } from '../config/receiver.js';
import type { ReceiverRegistry } from './receivers.js';
import { streamStatusOf } from './streams.js';

/**
 * The stream's receiver when its status is still `status` (re-read once when the cached one
 * differs: another worker may have changed it); `'superseded'` when the status changed again since
 * (that change's own SET follows: an outdated one is never sent after it); undefined when the
 * stream is gone.
 */
export async function stillAnnounced(
  registry: ReceiverRegistry,
  receiver: ResolvedReceiver,
  status: string,
): Promise<ResolvedReceiver | 'superseded' | undefined> {
  if (streamStatusOf(receiver) === status) return receiver;
  await registry.refresh?.();
  const now = registry.get(receiver.name);
  if (!now) return undefined;
  return streamStatusOf(now) === status ? now : 'superseded';
}
