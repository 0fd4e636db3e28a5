/**
 * Token scrubbing runs in linear time: a long run of the base64url alphabet holding many `eyJ`s
 * (and no JWT) must not hold the worker (found by a black-box review: 150 000 characters of
 * `eyJeyJ…` in one login's session claim blocked the event loop for 20 s; 1 MiB, for minutes).
 */
import { describe, expect, it } from 'vitest';
import { scrubText } from '../../src/secrets/secret-values.js';
import { scrubAll } from '../../src/secrets/known-secrets.js';
import { scrubFields, scrubJsonText, scrubValue } from '../../src/secrets/scrub.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'alice' })}.c2lnbmF0dXJlc2ln`;

function ms(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

describe('scrubbing: linear time', () => {
  it('a run of eyJ… with no token in it is returned at once, whole', () => {
    for (const s of ['eyJ'.repeat(60_000), `${'eyJ'.repeat(60_000)}!`, `x${'eyJ'.repeat(60_000)}.`, `${'eyJ'.repeat(30_000)} ${'eyJ'.repeat(30_000)}`]) {
      let out = '';
      expect(ms(() => (out = scrubText(s)))).toBeLessThan(250);
      expect(out).toBe(s);
      expect(ms(() => scrubAll(s, ['admintoken-0123456789abcdef']))).toBeLessThan(250);
      expect(ms(() => scrubValue({ claims: { c: s } }))).toBeLessThan(250);
    }
  });

  it('a JWT glued to a prefix or after a delimiter is still found', () => {
    for (const [s, keep] of [
      [`token=${JWT}`, 'token='],
      [`%3D${JWT}`, '='], // URL-decoded, then scrubbed
      [`evt-${JWT}`, 'evt-'],
      [`id_${JWT}.`, 'id_'],
      [`Bearer ${JWT}`, 'Bearer '],
      [`a.b.c.d.e.${JWT}`, 'a.b.c.d.e.'],
    ] as const) {
      const out = scrubText(s);
      expect(out, s).toMatch(/\[redacted jwt sha256:[0-9a-f]{64}\]/);
      expect(out, s).not.toContain(JWT.split('.')[1]);
      expect(out.startsWith(keep), s).toBe(true);
    }
  });

  it('"name": value pairs in text that does not parse: a run of escaped quotes is read once (was once per quote: a dead letter of 15 such 64 KiB fields took 20 s)', () => {
    const long = '\\"'.repeat(100_000) + '":';
    expect(ms(() => expect(scrubJsonText(long)).toBe(long))).toBeLessThan(1000); // was 12 s
    // A dead letter keeps fields of up to 64 KiB: four such were scrubbed in 5 s.
    const s = '\\"'.repeat(32_000) + '":';
    const fields: Record<string, string> = {};
    for (let i = 0; i < 4; i++) fields[`f${i}`] = s;
    expect(ms(() => expect(scrubFields(fields)).toEqual(fields))).toBeLessThan(1000);
    // Still redacted where a pair begins after such a run, or after an escaped quote.
    expect(scrubJsonText(`${'\\"'.repeat(32_000)}" "password": "hunter2", "a":1`)).toBe(`${'\\"'.repeat(32_000)}" "password": "[redacted]", "a":1`);
    expect(scrubJsonText('{"a\\"b": 1, "x\\\n": 2, "secret": "s3" "')).toBe('{"a\\"b": 1, "x\\\n": 2, "secret": "[redacted]" "');
  });
});
