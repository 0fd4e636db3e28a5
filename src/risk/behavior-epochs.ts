/**
 * The behaviors' on-epochs, as the reducer sees them: a behavior turned off and on again (a reload,
 * a worker restarted while it was off) starts afresh for every user, also one with no event while
 * it was off. Workers record in Redis when each behavior was last turned on, as an epoch of a
 * shared counter (src/engine/behavior-epochs.ts); a user's state keeps the epoch known when it was
 * last applied ({@link UserState.epoch}). Applying an event first drops what each enabled behavior
 * turned on again since then remembered (its detector window, as a behavior turned off loses it);
 * recorded hits and their levels stay.
 */
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { UserState } from './state.js';

/** The epochs a worker knows: the counter and each behavior's on-epoch (absent: 0). */
export interface BehaviorEpochs {
  current: number;
  on: Readonly<Record<string, number>>;
}

/** Before any behavior was turned on again: nothing to drop, no epoch stored. */
export const NO_EPOCHS: BehaviorEpochs = { current: 0, on: {} };

/**
 * Brings `next` (a copy being applied) to `epochs`: drops the windows of the `enabled` behaviors
 * turned on again after the state's epoch, then stores the epoch (never lowered: a state a worker
 * with a newer view wrote is left as it is). One comparison when the state is current.
 */
export function catchUpEpochs(next: UserState, enabled: readonly BehaviorConfig[], epochs: BehaviorEpochs): void {
  const at = next.epoch ?? 0;
  if (epochs.current <= at) return;
  for (const b of enabled) if ((epochs.on[b.id] ?? 0) > at) delete next.windows[b.id];
  next.epoch = epochs.current;
}
