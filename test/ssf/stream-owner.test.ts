import { describe, expect, it } from 'vitest';
import { mayAccess, streamCaller, streamOwner } from '../../src/ssf/stream-owner.js';

describe('stream owners', () => {
  it('are a stable digest of the token that never contains it', () => {
    const t = 'ssf-token-abcdefghijklmnop';
    expect(streamOwner(t)).toBe(streamOwner(t));
    expect(streamOwner(t)).toMatch(/^[0-9a-f]{32}$/);
    expect(streamOwner(t)).not.toContain(t);
    expect(streamOwner(`${t}x`)).not.toBe(streamOwner(t));
    expect(streamCaller(`Bearer ${t}`, false)).toEqual({ owner: streamOwner(t), admin: false });
  });

  it('a caller reaches its own streams; an admin every stream, legacy (owner-less) ones included', () => {
    const me = { owner: streamOwner('me-me-me-me-me-me-me'), admin: false };
    expect(mayAccess(me, me.owner)).toBe(true);
    expect(mayAccess(me, streamOwner('someone-else-entirely'))).toBe(false);
    expect(mayAccess(me, undefined)).toBe(false);
    expect(mayAccess({ ...me, admin: true }, undefined)).toBe(true);
  });
});
