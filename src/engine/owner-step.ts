import type { Keys } from '../keys.js';
import type { OwnerStates } from './owner-states.js';
import type { Owned, OwnerParts, StepReport } from './owner-types.js';
import type { ApplyContext } from './apply.js';
import { applySafely, type StepApply, type Waiting } from './owner-apply.js';
import { rawOf } from './dead-entries.js';
import type { PoisonGuard } from './poison-guard.js';

/** A step's apply, fresh: nothing loaded, applied or dead-lettered yet. */
export function newStep(
  owner: { owned: ReadonlyMap<number, Owned>; states: OwnerStates; parts: OwnerParts; keys: Keys },
  ctx: ApplyContext,
  report: StepReport,
  alone: ReadonlySet<number>,
): StepApply {
  const { owned, states, parts, keys } = owner;
  const partitionOf = (user: string): number => keys.partitionOf(user);
  return { owned, states, parts, partitionOf, ctx, report, base: new Map(), missing: [], sessionReads: [], bad: [], alone, failures: [], applied: false };
}

/**
 * Applies the partitions that waited for their users' states (`loads`) and, isolated ones, for
 * their item's try to be recorded: an item whose tries alone all failed or crashed is
 * dead-lettered and passed over instead (src/engine/poison-guard.ts).
 */
export async function applyWaiting(waiting: readonly Waiting[], step: StepApply, guard: PoisonGuard, loads: Array<Promise<unknown>>): Promise<void> {
  const tries = waiting.map((w) => (step.alone.has(w.p) ? guard.passOver(w.p, w.o, step.owned) : false));
  const [over] = await Promise.all([Promise.all(tries), ...loads]);
  waiting.forEach((w, i) =>
    over[i] ? passOver(w, guard.reason(w.p, w.o.committed!), step) : step.alone.has(w.p) ? applyAlone(w, step, guard) : applySafely(w, step),
  );
}

/** Applies isolated partition `p`'s one item, telling the guard how long its own work took. */
function applyAlone(w: Waiting, step: StepApply, guard: PoisonGuard): void {
  const t0 = performance.now();
  applySafely(w, step);
  guard.worked(w.p, performance.now() - t0);
}

/** Dead-letters isolated partition `p`'s item (it failed or crashed every time it was tried alone) and moves the position past it. */
function passOver(w: Waiting, reason: string, step: StepApply): void {
  if (step.owned.get(w.p) !== w.o) return;
  const item = w.items[0]!;
  step.bad.push({ raw: rawOf(item), reason });
  const d = step.states.delta(w.p, w.o);
  w.o.applied = d.pos = { ms: item.k[0], seq: item.k[1] };
  d.applied++;
  step.applied = true;
}
