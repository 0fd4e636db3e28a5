/**
 * The risk-event commands of a partition's commit (src/engine/commit.ts): each risk event appended
 * to its user's stream and outbox, and the deletion of a user's stream in its turn — idle past the
 * risk-event retention (src/engine/forget.ts `prune`, src/risk/retention.ts `unlessIdle`).
 */
import type { Keys } from '../keys.js';
import type { MsgWriter } from '../redis/msgpack-writer.js';
import type { BehaviorHit, LevelChange } from '../types.js';
import { op } from './commit-index.js';

/** What {@link eventOps} writes from: a delta's risk events in order, and its users' stream deletions. */
interface EventsDelta {
  events: ReadonlyArray<{ user: string; kind: 'hit' | 'change'; data: BehaviorHit | LevelChange }>;
  /** Per user, the index into `events` its stream is deleted before (the DEL goes before every append). */
  prune?: Map<string, number>;
}

/** Deletes `user`'s risk events in `d`'s commit, in their turn: its events from `after` (default: all so far) on are recorded. */
export function pruneEvents(d: EventsDelta, user: string, after = d.events.length): void {
  const prune = (d.prune ??= new Map());
  prune.set(user, Math.max(prune.get(user) ?? 0, after));
}

/**
 * Writes the delta's risk events (after the streams' deletions: src/engine/commit-index.ts
 * `forgetOps`), each to its user's stream (trimmed to `maxlen`) and outbox — one before its
 * stream's deletion to the outbox only (relayed, not kept); adds the users to `outboxUsers`. How
 * many commands.
 */
export function eventOps(w: MsgWriter, keys: Keys, d: EventsDelta, maxlen: string, outboxUsers: Set<string>, declared?: Set<string>): number {
  let count = 0;
  const prune = d.prune;
  for (let i = 0; i < d.events.length; i++) {
    const { user, kind, data } = d.events[i]!;
    outboxUsers.add(user);
    if (prune !== undefined && i < (prune.get(user) ?? 0)) {
      count += op(w, ['XADD', keys.userOutbox(user), '*', 'kind', kind, 'data', JSON.stringify(data)]);
      continue;
    }
    w.arrayHeader(10);
    for (const a of ['XADD', keys.userEvents(user), 'MAXLEN', '~', maxlen, '*', 'kind', kind, 'data']) w.str(a);
    const from = w.pos;
    w.str(JSON.stringify(data));
    const to = w.pos;
    w.arrayHeader(7);
    for (const a of ['XADD', keys.userOutbox(user), '*', 'kind', kind, 'data']) w.str(a);
    w.repeat(from, to); // the same JSON, encoded once
    count += 2;
    declared?.add(keys.userEvents(user));
  }
  return count;
}
