import { describe, expect, it } from 'vitest';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED } from '../../src/ssf/set-builder.js';
import { DEFAULT_EVENTS, newStream, streamReceiver, streamReceiverName, type SsfStream } from '../../src/ssf/streams.js';
import { withStatus } from '../../src/ssf/stream-update.js';

const STREAM: SsfStream = {
  stream_id: 'st-1',
  aud: 'https://rx.example',
  endpoint_url: 'https://rx.example/push',
  events_requested: [CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, 'https://unknown.example/event'],
  status: 'enabled',
  removed_subjects: [],
  created_at: 0,
  updated_at: 0,
};

describe('a self-registered stream as a delivery receiver', () => {
  it('gets the events it asked for that riskstream emits, by the stream’s name and audience', () => {
    expect(streamReceiver(STREAM)).toMatchObject({
      name: streamReceiverName('st-1'),
      streamId: 'st-1',
      kind: 'ssf',
      endpoint: 'https://rx.example/push',
      audience: 'https://rx.example',
      events: ['risk-level-change', 'session-revoked'],
      enabled: true,
    });
  });

  it("takes no event type from names of Object's members in events_requested (were Object, Object.prototype, a function)", () => {
    const r = streamReceiver({ ...STREAM, events_requested: ['constructor', '__proto__', 'toString', 'hasOwnProperty', CAEP_RISK_LEVEL_CHANGE] });
    expect(r.events).toEqual(['risk-level-change']);
  });

  it.each(['ES256', 'RS256'] as const)('is signed with the configured signing alg (%s)', (alg) => {
    expect(streamReceiver(STREAM, alg).alg).toBe(alg);
  });

  it('a paused or disabled stream is not an enabled receiver', () => {
    expect(streamReceiver({ ...STREAM, status: 'paused' }).enabled).toBe(false);
    expect(streamReceiver({ ...STREAM, status: 'disabled' }).enabled).toBe(false);
  });

  it('a new stream gets its aud from the endpoint origin (SSF §8.1.1: transmitter-supplied) and the default events', () => {
    const s = newStream({ endpoint_url: 'https://rx.example:8443/ssf/push?x=1' }, 'owner-1', 'st-2', 5);
    expect(s).toMatchObject({
      stream_id: 'st-2',
      owner: 'owner-1',
      aud: 'https://rx.example:8443',
      events_requested: DEFAULT_EVENTS,
      status: 'enabled',
      created_at: 5,
    });
  });

  it('leaving disabled marks when: SETs queued before then are not sent (SSF 1.0 §8.1.2: a disabled stream holds nothing)', () => {
    expect(streamReceiver(STREAM).queuedAfter).toBeUndefined();
    const disabled = withStatus(STREAM, 'disabled', 'abuse', 10);
    expect(disabled).toMatchObject({ status: 'disabled', reason: 'abuse' });
    expect(disabled.resumed_at).toBeUndefined();
    for (const status of ['enabled', 'paused'] as const) {
      const back = withStatus(disabled, status, undefined, 20);
      expect([back.status, back.reason, back.resumed_at]).toEqual([status, undefined, 20]);
      expect(streamReceiver(back).queuedAfter).toBe(20);
      // A later change of status that does not leave disabled keeps the mark.
      expect(withStatus(back, status === 'enabled' ? 'paused' : 'enabled', undefined, 30).resumed_at).toBe(20);
    }
  });
});
