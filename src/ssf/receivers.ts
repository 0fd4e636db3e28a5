/** Where the delivery worker looks receivers up by name. */
import type { ResolvedReceiver } from '../config/receiver.js';

/**
 * Resolves a receiver by name at send time, so configuration changes apply to queued jobs.
 * Static config receivers now; receivers registered through the SSF stream management API
 * (stored in Redis) can be served by another implementation later.
 */
export interface ReceiverRegistry {
  get(name: string): ResolvedReceiver | undefined;
}

/** A registry over a fixed list (the config's `receivers`). */
export function staticReceiverRegistry(receivers: readonly ResolvedReceiver[]): ReceiverRegistry {
  const byName = new Map(receivers.map((r) => [r.name, r]));
  return { get: (name) => byName.get(name) };
}
