/**
 * high_dlp: a high number of DLP matches — ≥ `count` (default 15) at or above `min_severity`
 * within `window` (default 1m) of event time, blocked or not. Late events within the allowed
 * lateness are placed in their windows; a crossing fires once, and sustained volume fires again
 * at most once per window length (see window-counter.ts).
 */
import type { HighDlpParams } from '../config/behaviors-schema.js';
import { formatDuration } from '../duration.js';
import { isDlpAtLeast } from './dlp.js';
import { isoTime } from './format.js';
import type { Detector } from './types.js';
import { addEvent, type SlidingCount } from './window-counter.js';

/** The high_dlp detector. Window: recent DLP match times and ids. */
export const highDlp: Detector<HighDlpParams, SlidingCount> = {
  kind: 'high_dlp',
  accepts: (event, params) => isDlpAtLeast(event, params.min_severity),
  detect(window, { event, eventId }, params, now, limits) {
    if (!isDlpAtLeast(event, params.min_severity)) return { window, hits: [] };
    const r = addEvent(window, event.time, eventId, params, now, limits);
    if (!r.crossing) return { window: r.state, hits: [] };
    const c = r.crossing;
    const span = formatDuration(params.window);
    return {
      window: r.state,
      hits: [{
        time: c.end,
        summary: `${c.count} DLP matches in ${span} (threshold ${params.count})`,
        evidence: { count: c.count, threshold: params.count, window: span, first: isoTime(c.start), last: isoTime(c.end), event_ids: c.ids },
        eventIds: c.ids,
      }],
    };
  },
};
