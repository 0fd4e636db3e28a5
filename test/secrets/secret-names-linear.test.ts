/**
 * Secret-name checks run in linear time: a field or claim named with a long run of capitals must
 * not hold the worker (found by a black-box review: a login whose session claim was named with
 * 100 000 capitals and a digit blocked the event loop for 8 s; 1 MiB, for minutes).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

  it('long names are not remembered (the memo kept 4096 of them: 300 names of 500 KB held 150 MB after the events were gone)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const base = 'x'.repeat(500_000);
    for (let i = 0; i < 300; i++) expect(isSecretName(`${base}${i}`)).toBe(false);
    expect(isSecretName(`${base}password`)).toBe(true);
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(40e6);
  });
});
