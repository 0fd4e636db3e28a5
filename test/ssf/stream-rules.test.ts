import { describe, expect, it } from 'vitest';
import { RiskstreamError } from '../../src/errors.js';
import { statusChange, subjectsChange } from '../../src/ssf/stream-update.js';
import { checkVerification } from '../../src/ssf/stream-verify.js';
import { streamDeliveryReceiver, type SsfStream } from '../../src/ssf/streams.js';

const STREAM: SsfStream = {
  stream_id: 'st-1',
  owner: 'o-1',
  aud: 'https://rx.example',
  endpoint_url: 'https://rx.example/push',
  events_requested: [],
  status: 'enabled',
  removed_subjects: [],
  created_at: 0,
  updated_at: 0,
};
const OWNER = { owner: 'o-1', admin: false };
const ADMIN = { owner: 'o-admin', admin: true };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof RiskstreamError ? e.code : 'not a RiskstreamError';
  }
}

describe('stream status changes (SSF 1.0 §8.1.2.2)', () => {
  const pausedByAdmin = statusChange(STREAM, 'paused', 'maintenance', 10, true, true);

  it('a status the transmitter set is marked, and the receiver cannot undo it', () => {
    expect(pausedByAdmin).toMatchObject({ status: 'paused', reason: 'maintenance', status_by_transmitter: true });
    expect(codeOf(() => statusChange(pausedByAdmin, 'enabled', undefined, 20, false, false))).toBe('FORBIDDEN');
  });

  it.each([
    ['the owner asking for the status it already has: unchanged', () => statusChange(pausedByAdmin, 'paused', undefined, 20, false, false), 'paused', true],
    ['an admin on its own stream may undo it', () => statusChange(pausedByAdmin, 'enabled', undefined, 20, false, true), 'enabled', undefined],
    ['the transmitter enabling clears the mark', () => statusChange(pausedByAdmin, 'enabled', undefined, 20, true, true), 'enabled', undefined],
    ['the owner pausing its own stream: not the transmitter’s', () => statusChange(STREAM, 'paused', undefined, 20, false, false), 'paused', undefined],
  ] as const)('%s', (_name, change, status, mark) => {
    const s = change();
    expect(s.status).toBe(status);
    expect(s.status_by_transmitter).toBe(mark);
  });

  it('leaving disabled marks resumed_at', () => {
    expect(statusChange({ ...STREAM, status: 'disabled' }, 'enabled', undefined, 42, false, false).resumed_at).toBe(42);
  });
});

describe('subjects add / remove', () => {
  it('removes a subject once, adds it back, and caps the removed list', () => {
    const once = subjectsChange(STREAM, {}, 'email:a@x', 'remove', 2);
    expect(subjectsChange(once, {}, 'email:a@x', 'remove', 2).removed_subjects).toEqual(['email:a@x']);
    expect(subjectsChange(once, {}, 'email:a@x', 'add', 2).removed_subjects).toEqual([]);
    const two = subjectsChange(once, {}, 'email:b@x', 'remove', 2);
    expect(codeOf(() => subjectsChange(two, {}, 'email:c@x', 'remove', 2))).toBe('PAYLOAD_TOO_LARGE');
  });

  it('the stream’s own subject cannot be removed (§8.1.3.3: 403), but adding it is harmless', () => {
    const own = { format: 'opaque', id: 'st-1' };
    expect(codeOf(() => subjectsChange(STREAM, own, 'opaque:st-1', 'remove', 10))).toBe('FORBIDDEN');
    expect(codeOf(() => subjectsChange(STREAM, own, 'opaque:st-1', 'add', 10))).toBeUndefined();
  });
});

describe('verification requests (SSF 1.0 §8.1.4.2)', () => {
  it.each([
    ['the owner with state', STREAM, 'abc', OWNER, undefined],
    ['an admin on a stream it does not own, without state', STREAM, undefined, ADMIN, undefined],
    ['an admin on a stream it does not own, with state', STREAM, 'abc', ADMIN, 'BAD_REQUEST'],
    ['a disabled stream', { ...STREAM, status: 'disabled' as const }, undefined, OWNER, 'BAD_REQUEST'],
  ])('%s', (_name, s, state, caller, code) => {
    expect(codeOf(() => checkVerification(s, state, caller))).toBe(code);
  });
});

describe('a self-registered stream as a delivery receiver', () => {
  it('takes ssf.timeout and is marked self-registered', () => {
    expect(streamDeliveryReceiver({ ...STREAM, status: 'paused' }, 'ES256', 3000, false)).toMatchObject({ timeout: 3000, selfRegistered: true, paused: true });
  });

  it('is off, never paused, and names its owner while its token is revoked', () => {
    const r = streamDeliveryReceiver({ ...STREAM, status: 'paused' }, 'ES256', 3000, true);
    expect(r).toMatchObject({ enabled: false, ownerRevoked: true, owner: 'o-1' });
    expect(r.paused).toBeUndefined();
  });
});
