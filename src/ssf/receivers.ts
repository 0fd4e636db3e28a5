/** Where the delivery worker looks receivers up by name. */
import type { ResolvedReceiver } from '../config/receiver.js';

/**
 * Resolves a receiver by name at send time, so configuration changes apply to queued jobs: the
 * config's receivers and the streams registered through the SSF stream management API.
 */
export interface ReceiverRegistry {
  get(name: string): ResolvedReceiver | undefined;
  /**
   * Re-reads the SSF streams now (a registry caches them): the delivery worker calls it before it
   * gives up on a receiver it does not know or holds disabled, which another worker or thread may
   * have just created or enabled.
   */
  refresh?(): Promise<void>;
}

/** A registry over a fixed list (the config's `receivers`). */
export function staticReceiverRegistry(receivers: readonly ResolvedReceiver[]): ReceiverRegistry {
  const byName = new Map(receivers.map((r) => [r.name, r]));
  return { get: (name) => byName.get(name) };
}
