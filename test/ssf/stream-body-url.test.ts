import { describe, expect, it } from 'vitest';
import { riskstreamSchema } from '../../src/config/schema.js';
import { isRiskstreamError } from '../../src/errors.js';
import { parseStreamBody } from '../../src/ssf/stream-body.js';
import { PUSH_METHOD } from '../../src/ssf/streams.js';

const limits = riskstreamSchema.parse({}).ssf.limits;

function code(endpoint_url: string): string {
  try {
    parseStreamBody({ delivery: { method: PUSH_METHOD, endpoint_url } }, false, limits);
    return 'accepted';
  } catch (err) {
    if (isRiskstreamError(err)) return err.code;
    throw err;
  }
}

describe('delivery.endpoint_url with whitespace or control characters', () => {
  // The URL parser drops tabs and newlines and trims the ends: such a URL was stored and shown back
  // (GET /ssf/streams) as given, CR/LF and NUL included, while another one was pushed to.
  it.each([
    ['a tab in the host', 'https://receiver.example\t/'],
    ['a newline in the host', 'https://recei\nver.example/'],
    ['CR LF in the path', 'https://receiver.example/a\r\nX-Injected: 1'],
    ['a leading space', ' https://receiver.example/'],
    ['a trailing newline', 'https://receiver.example/\n'],
    ['a NUL', 'https://receiver.example/\u0000'],
    ['a DEL', 'https://receiver.example/\u007f'],
    ['a C1 control', 'https://receiver.example/\u0085'],
    ['a space in the path', 'https://receiver.example/a b'],
    // JSON's "\ud800": the parser pushes to %EF%BF%BD (U+FFFD), not the URL stored and shown back.
    ['a lone high surrogate', 'https://receiver.example/\ud800'],
    ['a lone low surrogate', 'https://receiver.example/a?\udc00'],
  ])('%s is refused (400)', (_what, url) => {
    expect(code(url)).toBe('BAD_REQUEST');
  });

  it('a plain URL, percent-encoded characters and an IDN host are accepted', () => {
    expect(code('https://receiver.example/events?x=1')).toBe('accepted');
    expect(code('https://receiver.example/a%20b%0A')).toBe('accepted');
    expect(code('https://bücher.example/')).toBe('accepted');
    expect(code('https://receiver.example/\u{1f600}')).toBe('accepted'); // a surrogate pair: one character
  });
});
