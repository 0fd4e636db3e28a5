import { describe, expect, it } from 'vitest';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED } from '../../src/ssf/set-builder.js';
import { DEFAULT_EVENTS, newStream, streamReceiver, streamReceiverName, type SsfStream } from '../../src/ssf/streams.js';

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
});
