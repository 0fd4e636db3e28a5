/**
 * endpoint_detection: an EDR/XDR detection on the user's device at or above `min_severity`,
 * vendor-neutral. Reads the canonical shape (docs/interfaces.md §2: `vendor`, `detection`, `severity`,
 * `device.id`) and, when ingest kept the vendor's own fields, SentinelOne (`confidenceLevel`
 * malicious → high, suspicious → medium), CrowdStrike (`Severity` 1-5 → info…critical,
 * `SeverityName`) and Microsoft Defender (`severity` Informational/Low/Medium/High). Every
 * qualifying detection fires; there is no window.
 */
import { z } from 'zod';
import { REDACTION_MARKS, scrubText } from '../secrets/secret-values.js';
import type { CanonicalEvent, Severity } from '../types.js';
import { firstString, getPath, lower, ownValue, toNumber, typeIn } from './fields.js';
import { severity } from './params.js';
import { normalizeSeverity, severityAtLeast } from './severity.js';
import type { Detector } from './types.js';

/** endpoint_detection's parameters. */
export const endpointDetectionParams = z.strictObject({
  min_severity: severity.default('high'),
  vendors: z.array(z.string()).optional(),
});
export type EndpointDetectionParams = z.output<typeof endpointDetectionParams>;

/** Event types carrying endpoint detections. */
export const ENDPOINT_TYPES = ['endpoint', 'edr', 'xdr'] as const;

/** A vendor name reduced to a stable key: `SentinelOne`/`S1` → sentinelone, `CrowdStrike Falcon` → crowdstrike, `Microsoft Defender` → defender. */
export function vendorKey(vendor: string): string {
  const s = vendor.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (s.includes('sentinel') || s === 's1') return 'sentinelone';
  if (s.includes('crowdstrike') || s.includes('falcon')) return 'crowdstrike';
  if (s.includes('defender') || s === 'mde' || s.startsWith('microsoft')) return 'defender';
  return s;
}

/** The vendor named by the event, else guessed from vendor-specific fields, else `unknown`. */
function vendorOf(e: CanonicalEvent): string {
  const named = firstString(e, ['vendor', 'source', 'product']);
  // A token in the field is fingerprinted as it is (lower-cased first it would no longer look like one).
  if (!named) return guessedVendor(e);
  const scrubbed = scrubText(named);
  if (scrubbed === named) return vendorKey(named);
  // The key of the words around the token (`CrowdStrike <token>` is crowdstrike), else the fingerprint.
  const words = vendorKey(scrubbed.replace(REDACTION_MARKS, ''));
  return words || scrubbed;
}

/** The vendor guessed from vendor-specific fields, else `unknown`. */
function guessedVendor(e: CanonicalEvent): string {
  if (getPath(e, 'confidenceLevel') !== undefined || getPath(e, 'threatInfo') !== undefined) return 'sentinelone';
  if (getPath(e, 'SeverityName') !== undefined || getPath(e, 'Severity') !== undefined) return 'crowdstrike';
  if (getPath(e, 'machineId') !== undefined || getPath(e, 'detectionSource') !== undefined) return 'defender';
  return 'unknown';
}

const CROWDSTRIKE: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
const SENTINELONE: Record<string, Severity> = { malicious: 'high', suspicious: 'medium' };

/** SentinelOne's confidence level `v` as a severity (own names only: not `constructor`, `__proto__`). */
function sentinelOne(v: unknown): Severity | undefined {
  return ownValue(SENTINELONE, lower(v) ?? '');
}

/** CrowdStrike's 1-5 severity scale. */
function crowdstrikeScale(v: unknown): Severity | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 5 ? CROWDSTRIKE[n - 1] : undefined;
}

/** The detection's severity, normalised, with the raw value it came from. */
export function endpointSeverity(e: CanonicalEvent, vendor: string = vendorOf(e)): { severity: Severity; raw: unknown } | undefined {
  const sev = getPath(e, 'severity');
  const canonical =
    vendor === 'crowdstrike' && toNumber(sev) !== undefined
      ? crowdstrikeScale(sev)
      : (normalizeSeverity(sev) ?? (vendor === 'sentinelone' ? sentinelOne(sev) : undefined));
  if (canonical) return { severity: canonical, raw: sev };
  for (const path of ['SeverityName', 'severity_name', 'max_severity_displayname']) {
    const s = normalizeSeverity(getPath(e, path));
    if (s) return { severity: s, raw: getPath(e, path) };
  }
  const cs = crowdstrikeScale(getPath(e, 'Severity'));
  if (cs) return { severity: cs, raw: getPath(e, 'Severity') };
  for (const path of ['confidenceLevel', 'threatInfo.confidenceLevel']) {
    const s = sentinelOne(getPath(e, path));
    if (s) return { severity: s, raw: getPath(e, path) };
  }
  return undefined;
}

/** A vendor-neutral view of one endpoint detection. */
export interface EndpointFinding {
  vendor: string;
  severity: Severity;
  rawSeverity: unknown;
  detection: string | undefined;
  deviceId: string | undefined;
  deviceName: string | undefined;
}

/** Reads an endpoint detection event; undefined if it is not one or has no recognisable severity. */
export function readEndpointFinding(e: CanonicalEvent): EndpointFinding | undefined {
  if (!typeIn(e, ENDPOINT_TYPES) || !Number.isFinite(e.time)) return undefined;
  const vendor = vendorOf(e);
  const sev = endpointSeverity(e, vendor);
  if (!sev) return undefined;
  return {
    vendor,
    severity: sev.severity,
    rawSeverity: sev.raw,
    detection: firstString(e, ['detection', 'threatInfo.threatName', 'threatName', 'DetectName', 'title', 'alertDisplayName', 'Name', 'name']),
    deviceId: firstString(e, ['device.id', 'agentRealtimeInfo.agentId', 'SensorId', 'aid', 'deviceId', 'machineId', 'device_id']),
    deviceName: firstString(e, [
      'device.name',
      'device.hostname',
      'agentRealtimeInfo.agentComputerName',
      'ComputerName',
      'deviceName',
      'computerDnsName',
      'hostname',
    ]),
  };
}

function qualifies(f: EndpointFinding | undefined, params: EndpointDetectionParams): f is EndpointFinding {
  if (!f || !severityAtLeast(f.severity, params.min_severity)) return false;
  return !params.vendors?.length || params.vendors.some((v) => vendorKey(v) === f.vendor);
}

/** The endpoint_detection detector (stateless). */
export const endpointDetection: Detector<EndpointDetectionParams, undefined> = {
  kind: 'endpoint_detection',
  params: endpointDetectionParams,
  accepts: (event, params) => qualifies(readEndpointFinding(event), params),
  detect(_window, { event, eventId }, params) {
    const f = readEndpointFinding(event);
    if (!qualifies(f, params)) return { window: undefined, hits: [] };
    const device = f.deviceName ?? f.deviceId;
    return {
      window: undefined,
      hits: [
        {
          time: event.time,
          summary: `${f.vendor}: ${f.detection ?? 'detection'} (${f.severity})${device ? ` on ${device}` : ''}`,
          evidence: {
            vendor: f.vendor,
            detection: f.detection ?? null,
            severity: f.severity,
            raw_severity: typeof f.rawSeverity === 'string' || typeof f.rawSeverity === 'number' ? f.rawSeverity : null,
            device_id: f.deviceId ?? null,
            device_name: f.deviceName ?? null,
          },
          eventIds: [eventId],
        },
      ],
    };
  },
};
