import { describe, expect, it } from 'vitest';
import { Keys } from '../src/keys.js';
import { SET_DELIVERY_QUEUE } from '../src/ssf/queue.js';

// Every Redis key name comes from Keys (issue 15); the names stay what data already stored uses.
describe('Keys: every key name in one place, unchanged', () => {
  const k = new Keys('rs');

  it('names the default streams, tombstones, SSF stream keys and scan patterns', () => {
    expect([k.loginStream, k.activityStream, k.deadLetterStream, k.riskEventsStream, k.auditStream]).toEqual([
      'rs:login',
      'rs:activity',
      'rs:dead-letter',
      'rs:risk-events',
      'rs:audit',
    ]);
    expect(k.sessionTombstone('s-1')).toBe('rs:session:{s-1}:revoked');
    expect(k.sessionTombstone('a{b}')).toBe(`${k.session('a{b}')}:revoked`);
    expect([k.ssfHeld('x'), k.ssfVerify('x'), k.receiversKnown]).toEqual(['rs:ssf:held:x', 'rs:ssf:verify:x', 'rs:receivers:known']);
    expect(k.userOutboxPattern).toBe('rs:u:*:outbox');
    expect(k.userOutbox('alice')).toMatch(/^rs:u:.*:outbox$/);
    expect(k.bullKey(SET_DELIVERY_QUEUE, 'wait')).toBe('{rs}:bull:set-delivery:wait');
    expect(k.ownedPatterns).toEqual(['rs:*', '{rs}:*']);
  });
});
