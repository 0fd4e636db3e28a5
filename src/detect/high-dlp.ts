/**
 * high_dlp: a high number of DLP matches — ≥ `count` (default 15) at or above `min_severity`
 * within `window` (default 1m) of event time, blocked or not. Late events within the allowed
 * lateness are placed in their windows; a crossing fires once, and sustained volume fires again
 * about once per window length, as in event-time order (see window-counter.ts).
 */
import { z } from 'zod';
import { formatDuration, windowMs } from '../duration.js';
import { isDlpAtLeast } from './dlp.js';
import { isoTime } from './format.js';
import { severity } from './params.js';
import type { Detector } from './types.js';
import { addEvent, type SlidingCount } from './window-counter.js';

/** high_dlp's parameters. */
export const highDlpParams = z.strictObject({
  min_severity: severity.default('info'),
  count: z.number().int().positive().default(15),
  window: windowMs.prefault('1m'),
});
export type HighDlpParams = z.output<typeof highDlpParams>;

/** The high_dlp detector. Window: recent DLP match times and ids. */
export const highDlp: Detector<HighDlpParams, SlidingCount> = {
  kind: 'high_dlp',
  params: highDlpParams,
  countedBy: ['min_severity'],
  accepts: (event, params) => isDlpAtLeast(event, params.min_severity),
  detect(window, { event, eventId }, params, now, limits) {
    if (!isDlpAtLeast(event, params.min_severity)) return { window, hits: [] };
    const r = addEvent(window, event.time, eventId, params, now, limits);
    if (!r.crossings.length) return { window: r.state, hits: [] };
    const span = formatDuration(params.window);
    return {
      window: r.state,
      hits: r.crossings.map((c) => ({
        time: c.end,
        summary: `${c.count} DLP matches in ${span} (threshold ${params.count})`,
        evidence: { count: c.count, threshold: params.count, window: span, first: isoTime(c.start), last: isoTime(c.end), event_ids: c.ids },
        eventIds: c.ids,
      })),
    };
  },
};
