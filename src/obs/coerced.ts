/**
 * Values taken as absent in events that were accepted (a `geo.lat` of 200: src/ingest/geo-rules.ts):
 * counted in `riskstream_events_coerced_total{reason}` and logged at most once a minute per reason,
 * so that a source sending such values is seen without a log line per event.
 */
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** How often one reason is logged at most (ms). */
const LOG_EVERY_MS = 60_000;

/** A `(reason, n)` sink that counts `n` events coerced for `reason` and logs it now and then. */
export function coercedCounter(metrics: Metrics, logger: Logger, now: () => number = Date.now): (reason: string, n?: number) => void {
  const throttle = new LogThrottle(LOG_EVERY_MS, now);
  return (reason, n = 1) => {
    metrics.eventsCoerced.inc({ reason }, n);
    const said = throttle.take(reason);
    if (said)
      logger.warn(
        { reason, repeats_not_logged: said.suppressed },
        'event accepted with a value taken as absent (geo out of range: located from its ip if it can be); repeats are logged once a minute',
      );
  };
}
