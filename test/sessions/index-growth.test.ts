/**
 * The partitions' session indexes (`<prefix>:{p<n>}:sessions:login` and `…:sessions:expiry`) lose
 * the members of expired sessions by themselves: a worker whose all-sessions listing nobody calls
 * (the usual deployment: a console that never opens it, no `riskstream sessions list`) used to keep
 * one member per session ever opened, in both indexes, for good.
 */
import { describe, expect, it } from 'vitest';
import { inProcessWorker, sessionLogin } from '../helpers/worker.js';
import { waitFor, zcardAll } from '../helpers/redis.js';

const w = inProcessWorker('session-index-growth');

describe('session indexes of a running worker', () => {
  it('drop expired sessions with no listing call', async () => {
    await w.start({ state: { sweep_interval: '100ms' } });
    const users = Array.from({ length: 12 }, (_, i) => `idx-${i}@example.com`);
    const expiresAt = Date.now() + 1500;
    for (const [i, u] of users.entries()) {
      for (let s = 0; s < 3; s++) {
        const sid = `idx-${i}-${s}`;
        await w.redis.xadd(`${w.prefix}:login`, '*', 'event', sessionLogin(u, sid, { session: { id: sid, expires_at: expiresAt, idp: 'okta' } }));
      }
    }
    const byLogin = (p: number) => w.keys.sessionsByLogin(p);
    const byExpiry = (p: number) => w.keys.sessionsByExpiry(p);
    await waitFor(async () => (await zcardAll(w.redis, w.keys, byLogin)) === 36, { what: 'sessions indexed' });
    // Every session expires; nothing lists them: the indexes empty all the same.
    await waitFor(async () => (await zcardAll(w.redis, w.keys, byLogin)) + (await zcardAll(w.redis, w.keys, byExpiry)) === 0, {
      timeout: 20_000,
      interval: 200,
      what: 'expired sessions gone from the partition indexes',
    });
    const left = await w.redis.keys(`${w.prefix}:{p*}:session:*`);
    expect(left).toEqual([]);
  }, 40_000);
});
