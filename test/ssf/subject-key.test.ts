import { describe, expect, it } from 'vitest';
import { isStreamSubject, subjectKey } from '../../src/ssf/subject-key.js';

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
