import { describe, expect, it } from 'vitest';
import { isStreamSubject, isSubjectRemoved, sessionSubjectKey, subjectKey, subjectOfKey } from '../../src/ssf/subject-key.js';

/** Matches a RiskstreamError with `code`. */
const withCode = (code: string): Error => expect.objectContaining({ code }) as Error;

const id = '3f2c8a0e-5b1d-4c7e-9a6f-0d2b4e6c8a1f';

describe("isStreamSubject: the stream's own subject (SSF 1.0 §8.1.4.1: it MAY NOT be removed)", () => {
  it('the opaque subject with the stream id, however spelled where it would be keyed as that id', () => {
    expect(isStreamSubject({ format: 'opaque', id }, id)).toBe(true);
    // Keyed trimmed (and in NFC): stored as the stream id, so it is the stream's subject too (was a 204 that stored it).
    for (const spelled of [` ${id} `, `${id}\n`]) {
      expect(subjectKey({ format: 'opaque', id: spelled })).toBe(id);
      expect(isStreamSubject({ format: 'opaque', id: spelled }, id)).toBe(true);
    }
  });

  it('any other subject is not', () => {
    expect(isStreamSubject({ format: 'opaque', id: 'another-stream' }, id)).toBe(false);
    expect(isStreamSubject({ format: 'email', email: id }, id)).toBe(false);
    expect(isStreamSubject({ format: 'opaque', id: 7 }, id)).toBe(false);
    expect(isStreamSubject({ format: 'opaque', id: ' ' }, id)).toBe(false);
    expect(isStreamSubject(null, id)).toBe(false);
  });
});

describe('a complex subject naming a session (SSF 1.0 §8.1.3.1: it matches that session’s events only)', () => {
  const user = { format: 'email', email: 'A@Example.com' };
  it('is keyed by the user and the session; it stops that session’s SETs, not the user’s others', () => {
    const key = subjectKey({ format: 'complex', user, session: { format: 'opaque', id: ' s-1 ' } });
    expect(key).toBe(sessionSubjectKey('a@example.com', 's-1'));
    expect(subjectOfKey(key)).toEqual({ user: 'a@example.com', session: 's-1' });
    expect(isSubjectRemoved([key], 'a@example.com', 's-1')).toBe(true);
    expect(isSubjectRemoved([key], 'a@example.com', 's-2')).toBe(false);
    expect(isSubjectRemoved([key], 'a@example.com')).toBe(false);
    // The user removed: every SET about them, whatever the session.
    expect(isSubjectRemoved(['a@example.com'], 'a@example.com', 's-2')).toBe(true);
    expect(subjectOfKey('a@example.com')).toEqual({ user: 'a@example.com' });
  });

  it('a session riskstream never names (not opaque) is not recognized (404); one that is no identifier is 400', () => {
    expect(() => subjectKey({ format: 'complex', user, session: { format: 'uri', uri: 'urn:x' } })).toThrow(withCode('NOT_FOUND'));
    expect(() => subjectKey({ format: 'complex', user, session: 's-1' })).toThrow(withCode('BAD_REQUEST'));
    expect(() => subjectKey({ format: 'complex', user, session: { format: 'opaque', id: ' ' } })).toThrow(withCode('BAD_REQUEST'));
  });

  it('a user id holding U+FFFD (no user’s: ingest refuses it) is not recognized (404): kept, its key would read as a session subject’s', () => {
    const id = 'a@example.com\ufffds-1';
    expect(() => subjectKey({ format: 'opaque', id })).toThrow(withCode('NOT_FOUND'));
    expect(() => subjectKey({ format: 'complex', user: { format: 'opaque', id }, session: { format: 'opaque', id: 's-2' } })).toThrow(withCode('NOT_FOUND'));
  });
});
