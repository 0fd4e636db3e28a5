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
    expect(k.sessionTombstone(3, 's-1')).toBe('rs:{p3}:revoked-session:s-1');
    // No session id names another's tombstone (`x:revoked` once did).
    expect(k.sessionTombstone(3, 'a')).not.toBe(k.session(3, 'a:revoked'));
    expect(k.sessionTombstone(3, 'a{b}')).toBe('rs:{p3}:revoked-session:a%7bb%7d');
    expect(k.session(3, 'a{b}')).not.toMatch(/\{b\}/); // an id's braces never make a hash tag of their own
    expect([k.ssfHeld('x'), k.ssfVerify('x'), k.receiversKnown]).toEqual(['rs:ssf:held:x', 'rs:ssf:verify:x', 'rs:receivers:known']);
    // An ssf token's management-call bucket: its owner digest as the hash tag, under the prefix (purged with it).
    expect(k.ssfOwnerRate('0123abcd')).toBe('rs:ssf:owner:{0123abcd}:rate');
    expect(k.userOutboxPattern).toBe('rs:{p*}:u:*:outbox');
    expect(k.userOutbox('alice')).toMatch(/^rs:\{p\d+\}:u:.*:outbox$/);
    expect(k.bullKey(SET_DELIVERY_QUEUE, 'wait')).toBe('{rs}:bull:set-delivery:wait');
    // password_spray's IP sets: unnamed at generation 0 (as stored before generations), named after.
    expect([k.ipLogins('192.0.2.1'), k.ipSuccesses('192.0.2.1', 3), k.ipSprayGeneration()]).toEqual([
      'rs:ip:{192.0.2.1}:logins',
      'rs:ip:{192.0.2.1}:g3:successes',
      'rs:ip-spray:generation',
    ]);
    expect(k.ownedPatterns).toEqual(['rs:*', '{rs}:*', '{rs:*}:route[rd]-*', '{rs:*}:seen:*', '{rs:*}:ingest-chunk:*']);
  });

  it("puts everything a partition's commit writes under the partition's hash tag (one Cluster slot)", () => {
    const hashTag = (key: string): string => /\{([^}]*)\}/.exec(key)![1]!;
    for (const user of ['alice', 'bob@example.com', 'we{ird}%user']) {
      const p = k.partitionOf(user);
      const slot = `p${p}`;
      const written = [
        k.partitionState(p),
        k.partitionPos(p),
        k.partitionIn(p),
        k.partitionExpiry(p),
        k.userEvents(user),
        k.userOutbox(user),
        k.userSessions(user),
        k.userDevices(user),
        k.usersByLevel(p),
        k.outboxPending(p),
        k.session(p, 's{1}'),
        k.sessionTombstone(p, 's{1}'),
        k.sessionsByLogin(p),
        k.sessionsByExpiry(p),
        k.controlResult(p, 'req{1}'),
        k.engineLease(slot),
      ];
      expect(written.map(hashTag)).toEqual(written.map(() => slot));
      expect(k.userOfOutbox(k.userOutbox(user))).toBe(user);
    }
    expect(k.userOfOutbox(k.userEvents('alice'))).toBeUndefined();
    expect(k.partitionList).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(new Keys('rs', 4).partitionList).toEqual([0, 1, 2, 3]);
  });
});
