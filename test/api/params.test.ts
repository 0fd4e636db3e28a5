/**
 * Request parameters: an admin's reason is scrubbed of tokens before it is audited or sent in SETs
 * (found by a black-box review: a JWT pasted into a revoke's reason reached every receiver); stream
 * id cursors within Redis's 64-bit parts, `0-0` an empty page.
 */
import { describe, expect, it } from 'vitest';
import { reasonParam, streamIdCursor } from '../../src/api/params.js';
import { sha256Hex } from '../../src/secrets/secret-values.js';
import { knownSecrets } from '../../src/secrets/known-secrets.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub: 'alice', exp: 1 })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;

describe('reasonParam', () => {
  it('fingerprints a token pasted into the reason, body or query', () => {
    const want = `phished, token was [redacted jwt sha256:${sha256Hex(jwt)}]`;
    expect(reasonParam({ reason: `phished, token was ${jwt}` }, {}, '')).toBe(want);
    expect(reasonParam(undefined, { reason: `phished, token was ${jwt}` }, '')).toBe(want);
    expect(reasonParam({ reason: 'false positive' }, {}, '')).toBe('false positive');
  });

  it("takes out the worker's own tokens whatever their shape (hex, word-like), and a receiver's credential", () => {
    const hex = 'a3f1'.repeat(16); // `openssl rand -hex 32`: not token-shaped to the scrubber
    const word = 'ADMINTOKEN-aaaaaaaaaaaaaaaa';
    const known = knownSecrets({
      adminTokens: [hex],
      ingestTokens: [word],
      ssfTokens: [],
      metricsTokens: ['short'],
      receivers: [{ authorizationValue: 'Bearer RECEIVERSECRET-ffffffffffffffff' }, {}],
    });
    const r = reasonParam({ reason: `oops pasted ${hex} and ${word}, and RECEIVERSECRET-ffffffffffffffff` }, {}, '', known);
    expect(r).toBe(
      // No fingerprint: a hash of a token a person chose, sent to receivers, would let them test guesses.
      'oops pasted [redacted token] and [redacted token], and [redacted token]',
    );
    // In another case too (a hex token pasted upper-cased).
    expect(reasonParam({ reason: `x ${hex.toUpperCase()}` }, {}, '', known)).toBe('x [redacted token]');
    // Too short to look for by value (it would match words).
    expect(known).not.toContain('short');
  });
});

describe('streamIdCursor', () => {
  it.each<[string | undefined, string | null | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['0-0', null],
    ['00-0', null],
    ['1796293688972-5', '1796293688972-5'],
    ['007-01', '7-1'],
    ['18446744073709551615-18446744073709551615', '18446744073709551615-18446744073709551615'],
  ])('%s → %s', (v, want) => {
    expect(streamIdCursor(v)).toBe(want);
  });
  it.each(['abc', '1-', '-1', '1-2-3', '18446744073709551616-0', '1-18446744073709551616', '123456789012345678901-0'])('%s → BAD_REQUEST', (v) => {
    expect(() => streamIdCursor(v)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
