/**
 * Which of a file's event times `replay --rebase` makes "now". The newest time would do for a
 * clean file, but one outlier stamped in the future (a typo year, a microsecond epoch read as
 * milliseconds) would then shift every other event years back, out of `ingest.max_past`: all
 * dead-lettered, the replay useless. So the anchor is the newest time of the `span`-long stretch
 * of time holding the most events (the latest such stretch on a tie): a clean file's newest time,
 * and the outliers outside that stretch are what ends outside the worker's window (dead-lettered
 * with their reason, as any implausible time).
 */

/** The anchor of `times` (any order; sorted here) for a window of `span` ms; undefined for none. */
export function rebaseAnchor(times: Float64Array, span: number): { anchor: number; outside: number } | undefined {
  const n = times.length;
  if (!n) return undefined;
  times.sort();
  let best = 0;
  let bestEnd = n - 1;
  for (let i = 0, j = 0; j < n; j++) {
    while (times[j]! - times[i]! > span) i++;
    // `>=`: on a tie the later stretch wins (the newest plausible time).
    if (j - i + 1 >= best) {
      best = j - i + 1;
      bestEnd = j;
    }
  }
  return { anchor: times[bestEnd]!, outside: n - best };
}
