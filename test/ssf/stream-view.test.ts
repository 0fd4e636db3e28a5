import { describe, expect, it } from 'vitest';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, SSF_VERIFICATION } from '../../src/ssf/set-builder.js';
import { newStream, streamView } from '../../src/ssf/streams.js';
import { checkTransmitterSupplied } from '../../src/ssf/transmitter-supplied.js';

// SSF 1.0 §8.1.1: events_delivered is "a subset (not necessarily a proper subset) of the
// intersection of events_supported and events_requested": a set of event type URIs, each once,
// however often the receiver's events_requested names it.
describe('events_delivered of a stream configuration (SSF 1.0 §8.1.1)', () => {
  const requested = [CAEP_RISK_LEVEL_CHANGE, CAEP_RISK_LEVEL_CHANGE, 'urn:example:unknown', SSF_VERIFICATION, CAEP_RISK_LEVEL_CHANGE];
  const s = newStream({ endpoint_url: 'https://rx.example/push', events_requested: requested }, 'owner', 's1', 0);

  it('names each event type once, in the order requested; events_requested is kept as the receiver sent it', () => {
    const view = streamView(s, 'https://riskstream.test', 30);
    expect(view.events_delivered).toEqual([CAEP_RISK_LEVEL_CHANGE, SSF_VERIFICATION]);
    expect(view.events_requested).toEqual(requested);
    expect(view.events_delivered).not.toContain(CAEP_SESSION_REVOKED);
  });

  it('a receiver echoing the set it was told (each URI once) in an update is not refused', () => {
    const view = streamView(s, 'https://riskstream.test', 30);
    expect(() => checkTransmitterSupplied({ events_delivered: [SSF_VERIFICATION, CAEP_RISK_LEVEL_CHANGE] }, view)).not.toThrow();
  });
});
