import { describe, expect, it } from 'vitest';
import { isRiskstreamError } from '../../src/errors.js';
import { checkTransmitterSupplied } from '../../src/ssf/transmitter-supplied.js';

const ours = {
  stream_id: 's1',
  iss: 'https://riskstream.test',
  aud: 'https://rx.example',
  events_supported: ['a', 'b', 'c'],
  events_delivered: ['a', 'b'],
  min_verification_interval: 30,
};

const code = (body: Record<string, unknown>): string | undefined => {
  try {
    checkTransmitterSupplied(body, ours);
    return undefined;
  } catch (e) {
    return isRiskstreamError(e) ? `${e.code}:${String(e.details?.property)}` : 'other';
  }
};

// SSF 1.0 §8.1.1.3: "Transmitter-Supplied properties besides the stream_id MAY be present, but
// they MUST match the expected value. Missing Transmitter-Supplied properties MUST be ignored".
describe('Transmitter-Supplied stream properties (SSF 1.0 §8.1.1.3 / §8.1.1.4)', () => {
  it('absent ones and equal ones pass (arrays as sets; aud as a one-element array)', () => {
    expect(code({ description: 'x' })).toBeUndefined();
    expect(code({ ...ours, events_delivered: ['b', 'a'], aud: ['https://rx.example'] })).toBeUndefined();
  });

  it.each([
    ['aud', { aud: 'https://other.example' }],
    ['aud', { aud: ['https://rx.example', 'https://other.example'] }],
    ['iss', { iss: 'https://evil.example' }],
    ['events_delivered', { events_delivered: ['a'] }],
    ['events_delivered', { events_delivered: ['a', 'b', 'c'] }],
    ['events_supported', { events_supported: ['a'] }],
    ['min_verification_interval', { min_verification_interval: 0 }],
    // riskstream has no inactivity timeout: any value differs from ours (none).
    ['inactivity_timeout', { inactivity_timeout: 3600 }],
    ['inactivity_timeout', { inactivity_timeout: null }],
  ])('a differing %s → TRANSMITTER_SUPPLIED', (prop, body) => {
    expect(code(body)).toBe(`TRANSMITTER_SUPPLIED:${prop}`);
  });
});
