/**
 * malicious_file: interaction with a file whose verdict (`file.verdict`, else `verdict`; compared
 * case-insensitively) is one of `verdicts`, in `swg`, `http` or `file` activity. Counted whether
 * or not the request was blocked (`action: block`). Stateless.
 */
import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import { firstString, getPath, lower, typeIn } from './fields.js';
import type { Detector } from './types.js';

/** malicious_file's parameters. */
export const maliciousFileParams = z.strictObject({
  verdicts: z.array(z.string()).min(1, { message: 'must name at least one verdict (to turn the behavior off: enabled: false)' }).default(['malicious']),
});
export type MaliciousFileParams = z.output<typeof maliciousFileParams>;

/** Event types that carry file interactions. */
export const FILE_TYPES = ['swg', 'http', 'file'] as const;

/** The event's file verdict if it is one of `verdicts` (lower-cased), else undefined. */
export function maliciousVerdict(event: CanonicalEvent, verdicts: readonly string[]): string | undefined {
  if (!typeIn(event, FILE_TYPES) || !Number.isFinite(event.time)) return undefined;
  const verdict = lower(getPath(event, 'file.verdict')) ?? lower(getPath(event, 'verdict'));
  return verdict && verdicts.some((v) => v.trim().toLowerCase() === verdict) ? verdict : undefined;
}

/** The malicious_file detector (stateless). */
export const maliciousFile: Detector<MaliciousFileParams, undefined> = {
  kind: 'malicious_file',
  params: maliciousFileParams,
  accepts: (event, params) => maliciousVerdict(event, params.verdicts) !== undefined,
  detect(_window, { event, eventId }, params) {
    const verdict = maliciousVerdict(event, params.verdicts);
    if (!verdict) return { window: undefined, hits: [] };
    const name = firstString(event, ['file.name', 'file.path', 'file.sha256', 'file.hash']);
    const action = lower(getPath(event, 'action'));
    const where = firstString(event, ['domain', 'url', 'host', 'app']);
    return {
      window: undefined,
      hits: [
        {
          time: event.time,
          summary: `${verdict} file${name ? ` ${name}` : ''}${where ? ` from ${where}` : ''}${action === 'block' ? ' (blocked)' : ''}`,
          evidence: {
            verdict,
            file: name ?? null,
            sha256: firstString(event, ['file.sha256']) ?? null,
            url: firstString(event, ['url']) ?? null,
            domain: firstString(event, ['domain', 'host']) ?? null,
            action: action ?? null,
          },
          eventIds: [eventId],
        },
      ],
    };
  },
};
