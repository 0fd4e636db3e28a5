/**
 * dlp_detection: DLP matches at or above `min_severity`. With `count` 1 (the default) every
 * match fires; with a larger count, `count` matches within `window` (event time) fire, once per
 * window length (see window-counter.ts). Blocked matches count too.
 */
import { z } from 'zod';
import { formatDuration, windowMs } from '../duration.js';
import { readDlp, isDlpAtLeast } from './dlp.js';
import { isoTime } from './format.js';
import { severity } from './params.js';
import type { Detector } from './types.js';
import { addEvent, type SlidingCount } from './window-counter.js';

/** dlp_detection's parameters. */
export const dlpDetectionParams = z.strictObject({
  min_severity: severity.default('high'),
  count: z.number().int().positive().default(1),
  window: windowMs.prefault('1m'),
});
export type DlpDetectionParams = z.output<typeof dlpDetectionParams>;

/** The dlp_detection detector. Window: recent matches when `count` > 1, else none. */
export const dlpDetection: Detector<DlpDetectionParams, SlidingCount> = {
  kind: 'dlp_detection',
  params: dlpDetectionParams,
  countedBy: ['min_severity'],
  accepts: (event, params) => isDlpAtLeast(event, params.min_severity),
  detect(window, { event, eventId }, params, now, limits) {
    const m = readDlp(event);
    if (!m || !isDlpAtLeast(event, params.min_severity)) return { window, hits: [] };
    const facts = { profile: m.profile ?? null, severity: m.severity, action: m.action ?? null, app: m.app ?? null };
    const where = [m.app && `in ${m.app}`, m.action?.toLowerCase() === 'block' && 'blocked'].filter(Boolean).join(', ');
    if (params.count <= 1) {
      const summary = `DLP match${m.profile ? ` "${m.profile}"` : ''} (${m.severity})${where ? ` ${where}` : ''}`;
      return { window: undefined, hits: [{ time: event.time, summary, evidence: facts, eventIds: [eventId] }] };
    }
    const r = addEvent(window, event.time, eventId, params, now, limits);
    return {
      window: r.state,
      hits: r.crossings.map((c) => ({
        time: c.end,
        summary: `${c.count} DLP matches at or above ${params.min_severity} in ${formatDuration(params.window)}`,
        evidence: {
          count: c.count,
          window: formatDuration(params.window),
          min_severity: params.min_severity,
          first: isoTime(c.start),
          last: isoTime(c.end),
          latest: facts,
          event_ids: c.ids,
        },
        eventIds: c.ids,
      })),
    };
  },
};
