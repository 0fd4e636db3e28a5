/**
 * Secret-name checks run in linear time: a field or claim named with a long run of capitals must
 * not hold the worker (found by a black-box review: a login whose session claim was named with
 * 100 000 capitals and a digit blocked the event loop for 8 s; 1 MiB, for minutes).
 */
import { describe, expect, it } from 'vitest';
import { isSecretName } from '../../src/secrets/secret-names.js';
import { scrubValue } from '../../src/secrets/scrub.js';

function ms(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

describe('secret names: linear time', () => {
  it('a name of many capitals (no capitalised word after them) is judged at once', () => {
    for (const name of ['A'.repeat(60_000) + '1', 'A'.repeat(60_000), `${'AB'.repeat(30_000)}_x`, `x${'Q'.repeat(60_000)}-`]) {
      expect(ms(() => isSecretName(name))).toBeLessThan(250);
      expect(ms(() => scrubValue({ claims: { [`${name}#`]: 'v' } }))).toBeLessThan(250);
    }
  });

  it('still splits capital runs from a capitalised word (SAMLResponse, IDToken, OTPCode)', () => {
    for (const name of ['SAMLResponse', 'IDToken', 'XAPIKey', 'OTPCode', 'userOTP', 'ClientSecret', 'x-api-key']) expect(isSecretName(name), name).toBe(true);
    // `otp` only as a word of its own.
    for (const name of ['footprint', 'FOOTPrint', 'groups', 'email', 'Department']) expect(isSecretName(name), name).toBe(false);
  });
});
