import { describe, expect, it } from 'vitest';
import { isRiskstreamError } from '../../src/errors.js';
import { subjectKey } from '../../src/ssf/subject-key.js';

const ISS = 'https://rx.example.com';

describe('subjectKey (the key a removed subject is kept by)', () => {
  it.each([
    ['email, any case', { format: 'email', email: 'Tom@Example.com' }, 'tom@example.com'],
    ['opaque', { format: 'opaque', id: 'u-42' }, 'u-42'],
    ['iss_sub under our issuer', { format: 'iss_sub', iss: ISS, sub: 'tom@example.com' }, 'tom@example.com'],
    [
      'iss_sub under another issuer: never one of our users',
      { format: 'iss_sub', iss: 'https://other', sub: 'tom@example.com' },
      'https://other|tom@example.com',
    ],
    ['complex with a user', { format: 'complex', user: { format: 'email', email: 'tom@example.com' } }, 'tom@example.com'],
  ])('%s', (_n, subject, key) => {
    expect(subjectKey(subject, ISS)).toBe(key);
  });

  it('without an issuer to compare with, an iss_sub is its sub (validation only)', () => {
    expect(subjectKey({ format: 'iss_sub', iss: 'https://other', sub: 'tom' })).toBe('tom');
  });

  it('refuses what is no supported subject: BAD_REQUEST', () => {
    for (const bad of [null, 'tom', { format: 'phone_number', phone_number: '+1' }, { format: 'email' }]) {
      let err: unknown;
      try {
        subjectKey(bad, ISS);
      } catch (e) {
        err = e;
      }
      expect(isRiskstreamError(err, 'BAD_REQUEST'), JSON.stringify(bad)).toBe(true);
    }
  });
});
