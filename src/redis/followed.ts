/**
 * A value in Redis that every worker of a prefix shares and that an edge follows without a round
 * trip per event: read once per configuration it is given (before the first batch judged with a
 * configuration not seen yet — its start, a reload — so a change a worker recorded before applying
 * that configuration is seen), then again in the background at most every `refreshMs` (another
 * worker changed it). Reads only move it forward (`merge`): one answering late never moves it back.
 * Used by password_spray's tally generation (src/ingest/spray-generation.ts) and the behaviors'
 * on-epochs (src/engine/behavior-epochs.ts).
 */

/** An edge's view of a followed value. */
export interface Followed<T> {
  /** The value to judge a batch with under `config` (a configuration, compared by identity). */
  current(config: object): Promise<T>;
  /** The value as known now (no read): what this edge has seen, never moved back. */
  known(): T;
}

/**
 * What a shared counter Redis lost (restarted empty) is put back above what a follower has seen by
 * (the behaviors' epochs, password_spray's generation): far more than the bumps possible between
 * two reads of any follower, so every follower, whatever it knew, takes a value given after the
 * loss for a new one.
 */
export const LOST_COUNTER_MARGIN = 1_000_000;

/** Options of {@link follow}. */
export interface FollowOptions<T> {
  /** The value before the first read. */
  initial: T;
  /** The value after a read: `known` moved forward by `read` (never back). */
  merge(known: T, read: T): T;
  /** How often it is read again while the configuration stays (ms). */
  refreshMs: number;
  now?: () => number;
  /** A background read failed (the next one is tried at the next refresh). */
  onError?: (err: unknown) => void;
}

/** Follows the value `read` gives (see the file comment). */
export function follow<T>(read: () => Promise<T>, o: FollowOptions<T>): Followed<T> {
  const clock = o.now ?? Date.now;
  let value = o.initial;
  let seen: object | undefined;
  let readAt = 0;
  let reading: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (reading ??= read()
      .then((v) => {
        value = o.merge(value, v);
        readAt = clock();
      })
      .finally(() => (reading = undefined)));
  return {
    async current(config) {
      if (config !== seen) {
        // A configuration not seen yet: read before this batch is judged. A read already in flight
        // began before it, perhaps before what was recorded for it: wait for it, then read.
        if (reading) await reading.catch(() => undefined);
        await refresh();
        seen = config;
      } else if (clock() - readAt >= o.refreshMs && !reading) {
        refresh().catch((err: unknown) => o.onError?.(err));
      }
      return value;
    },
    known: () => value,
  };
}
