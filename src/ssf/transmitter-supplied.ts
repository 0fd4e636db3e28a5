import { RiskstreamError } from '../errors.js';

/**
 * Transmitter-Supplied stream properties (SSF 1.0 §8.1.1) a receiver may echo back, besides
 * `stream_id`. riskstream sets no `inactivity_timeout` (its configuration never shows one), so a
 * request naming one differs from ours whatever its value: it cannot be chosen.
 */
export const TRANSMITTER_SUPPLIED = ['iss', 'aud', 'events_supported', 'events_delivered', 'min_verification_interval', 'inactivity_timeout'] as const;

/**
 * SSF 1.0 §8.1.1.3 / §8.1.1.4: "Transmitter-Supplied properties besides the stream_id MAY be
 * present, but they MUST match the expected value"; `events_delivered` must match the value before
 * the update. `expected` is the stream's current view (for a create: the view it would get).
 * Throws TRANSMITTER_SUPPLIED (400) naming the first property that differs; absent ones are ignored.
 */
export function checkTransmitterSupplied(body: Record<string, unknown>, expected: Record<string, unknown>): void {
  for (const k of TRANSMITTER_SUPPLIED) {
    if (body[k] !== undefined && !sameValue(body[k], expected[k])) {
      throw new RiskstreamError('TRANSMITTER_SUPPLIED', `${k} is set by the transmitter and cannot be chosen or changed (SSF 1.0 §8.1.1)`, { property: k });
    }
  }
}

/** Equal values; arrays compare as sets, and a one-element array equals its element (`aud`). */
function sameValue(given: unknown, ours: unknown): boolean {
  if (Array.isArray(ours)) {
    return Array.isArray(given) && given.length === ours.length && ours.every((x) => given.includes(x));
  }
  if (Array.isArray(given)) return given.length === 1 && given[0] === ours;
  return given === ours;
}
