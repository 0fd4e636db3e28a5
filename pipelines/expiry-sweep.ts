import { asyncScheduler, catchError, defer, EMPTY, exhaustMap, interval, type Observable, type ObservableInput, type SchedulerLike } from 'rxjs';

/** The parts of the periodic expiry sweep (built in `src/`, wired by the worker). */
export interface ExpirySweepParts<R> {
  /** Milliseconds between sweeps (`state.sweep_interval`). */
  everyMs: number;
  /**
   * One sweep at `now` (the scheduler's clock): expire what is due, relay the level changes,
   * recover the outbox, trim the inputs. A Promise or an Observable of its result.
   */
  sweep(now: number): ObservableInput<R>;
  /** A failed sweep: reported, and the next one runs at the next tick. */
  onError?(err: unknown): void;
}

/**
 * Expiry sweep: every `everyMs` a sweep runs, one at a time. A tick that comes while a sweep is
 * still running is skipped (`exhaustMap`), so a stall (slow Redis) never queues sweeps that then
 * run back to back. A failed sweep never stops the timer. Emits each finished sweep's result;
 * unsubscribing stops the timer (a sweep in flight finishes; its result is not emitted).
 */
export function expirySweep<R>(parts: ExpirySweepParts<R>, scheduler: SchedulerLike = asyncScheduler): Observable<R> {
  return interval(parts.everyMs, scheduler).pipe(
    exhaustMap(() =>
      defer(() => parts.sweep(scheduler.now())).pipe(
        catchError((err: unknown) => {
          parts.onError?.(err);
          return EMPTY;
        }),
      ),
    ),
  );
}
