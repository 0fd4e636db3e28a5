/**
 * CONTRACT §4 / RFC 8935 push: a 429's `Retry-After` is honoured, also as an HTTP-date. RFC 9110
 * §5.6.7: an HTTP-date is always GMT, and a recipient must accept the obsolete asctime form
 * (`Sun Nov  6 08:49:37 1994`), which carries no zone. A worker whose local time zone is not UTC
 * read it as local time (Date.parse), so in New York a Retry-After 2 s ahead held the SET 5 hours.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';

const h = workerHarness('retry-after-asctime', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/rx` }] }), {
  env: { TZ: 'America/New_York' },
});

/** `d` as an RFC 9110 asctime-date (`Sun Nov  6 08:49:37 1994`: GMT, no zone written). */
function asctime(d: Date): string {
  const [wd, day, mon, year, time] = d.toUTCString().replace(',', '').split(' ') as [string, string, string, string, string];
  return `${wd} ${mon} ${day.replace(/^0/, ' ')} ${time} ${year}`;
}

describe('Retry-After as an asctime HTTP-date (worker not in UTC)', () => {
  it('is read as GMT: the SET is retried about when the receiver said, not hours later', async () => {
    let n = 0;
    h.receiver.respond = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': asctime(new Date(Date.now() + 2000)) } } : { status: 202 });
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('asc@example.com'));
    await waitFor(() => h.receiver.received.length >= 2, { timeout: 12_000, what: 'the retry' });
    const [first, second] = h.receiver.received;
    expect(second!.claims.jti).toBe(first!.claims.jti);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });
});
