/**
 * Token scrubbing runs in linear time: a long run of the base64url alphabet holding many `eyJ`s
 * (and no JWT) must not hold the worker (found by a black-box review: 150 000 characters of
 * `eyJeyJ…` in one login's session claim blocked the event loop for 20 s; 1 MiB, for minutes).
 */
import { describe, expect, it } from 'vitest';
import { scrubText } from '../../src/secrets/secret-values.js';
import { scrubAll } from '../../src/secrets/known-secrets.js';
import { scrubValue } from '../../src/secrets/scrub.js';

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
});
