/** What dlp_detection and high_dlp read from a DLP event. */
import type { CanonicalEvent, Severity } from '../types.js';
import { firstString, typeIn } from './fields.js';
import { normalizeSeverity, severityAtLeast } from './severity.js';

/** The facts of one DLP match. Missing or unrecognised severities rank as `info`. */
export interface DlpMatch {
  severity: Severity;
  profile: string | undefined;
  action: string | undefined;
  app: string | undefined;
}

/** Reads a `type: dlp` event; undefined for any other type. */
export function readDlp(event: CanonicalEvent): DlpMatch | undefined {
  if (!typeIn(event, ['dlp']) || !Number.isFinite(event.time)) return undefined;
  return {
    severity: normalizeSeverity(event.severity) ?? 'info',
    profile: firstString(event, ['profile', 'dlp.profile', 'profile_name', 'rule']),
    action: firstString(event, ['action']),
    app: firstString(event, ['app', 'application']),
  };
}

/** True for a DLP event at or above `min` severity. */
export function isDlpAtLeast(event: CanonicalEvent, min: Severity): boolean {
  const m = readDlp(event);
  return m !== undefined && severityAtLeast(m.severity, min);
}
