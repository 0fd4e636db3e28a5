import { describe, expect, it } from 'vitest';
import { isSecretName } from '../../src/secrets/secret-names.js';
import { looksLikeJwt, looksLikeOpaqueToken, mayHoldToken, scrubId, scrubText, sha256Hex } from '../../src/secrets/secret-values.js';
import { scrubFields, scrubShared, scrubValue } from '../../src/secrets/scrub.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub: 'alice', exp: 1 })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
const OPAQUE = 'Zk3Qp9vX2mL8rT4wYb6NcH1sJd7GfA0eKu5V';
const expectScrubbed = (cases: Array<[string, string]>): void => {
  for (const [input, want] of cases) expect([input, scrubText(input)]).toEqual([input, want]);
};

describe('secret names (normalised: case, -/_, camelCase)', () => {
  it.each([
    'accessToken',
    'sessionToken',
    'SAMLResponse',
    'refresh-token',
    'client_secret',
    'password',
    'Password',
    'assertion',
    'saml',
    'apiKey',
    'x-api-key',
    'cookie',
    'Set-Cookie',
    'authorization',
    'id_token',
    'PASSWD',
    'otp',
    'private_key',
    'credentials',
    'passcode',
    'mfaPasscode',
    'code_verifier',
  ])('%s is secret', (n) => expect(isSecretName(n)).toBe(true));
  it.each([
    'user',
    'id',
    'time',
    'session',
    'ip',
    'geo',
    'country',
    'device',
    'posture',
    'footprint',
    'outcome',
    'reason',
    'groups',
    'email',
    'auth_time',
    'app',
    'code',
    'error_code',
  ])('%s is not', (n) => expect(isSecretName(n)).toBe(false));
});

describe('secret values (by shape, on token boundaries, after URL-decoding)', () => {
  const fp = `[redacted jwt sha256:${sha256Hex(jwt)}]`;
  it('a JWT alone, after Bearer, followed by ".", after "=" and after "%3D"', () => {
    expect(scrubText(jwt)).toBe(fp);
    expect(scrubText(`Bearer ${jwt}`)).toBe(`Bearer ${fp}`);
    expect(scrubText(`token was ${jwt}.`)).toBe(`token was ${fp}.`);
    expect(scrubText(`${jwt}.next`)).toBe(`${fp}.next`);
    expect(scrubText(`/cb?id_token=${jwt}&x=1`)).toBe(`/cb?id_token=${fp}&x=1`);
    const enc = `/cb?q=token%3D${jwt}`;
    expect(scrubText(enc)).not.toContain(jwt.slice(0, 20));
    expect(scrubText(encodeURIComponent(`a=${jwt}`))).not.toContain(jwt.slice(10, 30));
  });
  it('a JWT glued to a prefix of the token alphabet (found by a black-box review: `evt-<jwt>` was fingerprinted part by part, a short payload kept)', () => {
    const short = `${b64({ alg: 'HS256' })}.${b64({ sub: 'a' })}.c2ln`;
    for (const t of [jwt, short]) {
      const mark = `[redacted jwt sha256:${sha256Hex(t)}]`;
      expect(scrubText(`evt-${t}`)).toBe(`evt-${mark}`);
      expect(scrubText(`id_${t}.tail`)).toBe(`id_${mark}.tail`);
      expect(scrubText(`x-eyJ-${t}`)).toBe(`x-eyJ-${mark}`);
    }
    expect(scrubText('evt-eyJ.not-a-token')).toBe('evt-eyJ.not-a-token');
  });
  it('long opaque high-entropy tokens, not hex digests, UUIDs, words or hosts', () => {
    expect(looksLikeOpaqueToken(OPAQUE)).toBe(true);
    expect(scrubText(`key ${OPAQUE} end`)).toBe(`key [redacted token sha256:${sha256Hex(OPAQUE)}] end`);
    for (const keep of [
      sha256Hex('x'),
      '3f2a0c1e-8b7d-4c5a-9e6f-112233445566',
      'www.example.com',
      'London, GB',
      'connected via 10.0.0.1',
      'averyveryverylongwordwithoutanydigitsatall',
    ]) {
      expect(scrubText(keep)).toBe(keep);
    }
  });
  it('an opaque token in a URL: a query value after "=" (found by a black-box review: it reached evidence and SETs), a path segment without the host or path words', () => {
    const r = `[redacted token sha256:${sha256Hex(OPAQUE)}]`;
    expect(scrubText(`https://evil.test/dl?access_token=${OPAQUE}`)).toBe(`https://evil.test/dl?access_token=${r}`);
    expect(scrubText(`https://evil.test/dl?x=1&sig=${OPAQUE}&y=2`)).toBe(`https://evil.test/dl?x=1&sig=${r}&y=2`);
    expect(scrubText(`https://evil.test/dl/${OPAQUE}`)).toBe(`https://evil.test/dl/${r}`);
    expect(scrubText(`https://evil.test/dl/${OPAQUE}/file.zip`)).toBe(`https://evil.test/dl/${r}/file.zip`);
    // A standard base64 token holding "/" is still redacted (and hashed) whole.
    const b64 = 'Qm9vZ1Bk/Xr2Lm5Nw7Kp3Vt9Bh4Jc6Df1Gs0Ha2Yx5Ue8Ri+Zq8';
    expect(scrubText(`key ${b64} end`)).toBe(`key [redacted token sha256:${sha256Hex(b64)}] end`);
    expect(scrubText(`t=${b64}`)).toBe(`t=[redacted token sha256:${sha256Hex(b64)}]`);
    // Paths as query values are paths, kept (a review of the diff: these were redacted once "=" stopped hiding them).
    for (const keep of [
      'https://x.okta.com/app/UserHome?fromURI=/home/Salesforce/0oa1b2C3d4E5f6G7h8/1234',
      'https://example.com/a/b?next=/Accounts/Settings/Profile/Edit2FA/Backup',
      'file=/Users/JohnSmith/Documents/Projects2024/QuarterlyReport',
    ]) {
      expect(scrubText(keep)).toBe(keep);
    }
    // And a token among them goes alone.
    expect(scrubText(`next=/home/App/${OPAQUE}/x`)).toBe(`next=/home/App/${r}/x`);
  });
});

describe('the no-token fast path (mayHoldToken): never skips a token', () => {
  // Short tokens: two dots, no 32-character run (only the dotted rule finds them).
  const short = `${b64({ a: 1 })}.${b64({})}.`;
  const short5 = `${b64({})}.e30.e30.e30.e30`;
  it.each([
    ['word', 'London', false],
    ['email', 'u3580@bench.example', false],
    ['one dot', 'macOS 15.1', false],
    ['dots in separate runs', 'a.b c.d', false],
    ['31-character run', 'Ab1'.repeat(10) + 'x', false],
    ['run cut by a dot', `${'Ab1'.repeat(8)}.${'Ab1'.repeat(8)}`, false],
    ['two dots in a run', 'a.b.c', true],
    ['IPv4 (looked at, kept)', '81.2.69.142', true],
    ['dots across + and /', 'a.b+c.d/e.f', false],
    ['32-character run', 'Ab1'.repeat(10) + 'xy', true],
    ['32 with + and /', 'Ab1+/'.repeat(6) + 'xy', true],
    ['percent', 'a%3Db', true],
    ['short JWT', short, true],
  ])('%s → %s', (_n, s, expected) => {
    expect(mayHoldToken(s)).toBe(expected);
    if (!expected) expect(scrubText(s)).toBe(s);
  });
  it.each([
    ['alone', short, (fp: string) => fp],
    ['after Bearer', `Bearer ${short}`, (fp: string) => `Bearer ${fp}`],
    ['followed by a dot', `${short}.next`, (fp: string) => `${fp}.next`],
    ['in a query', `/cb?t=${short}&x=1`, (fp: string) => `/cb?t=${fp}&x=1`],
  ])('a short JWT %s is still replaced', (_n, s, want) => {
    expect(looksLikeJwt(short)).toBe(true);
    expect(scrubText(s)).toBe(want(`[redacted jwt sha256:${sha256Hex(short)}]`));
  });
  it('credentials named by their context, whatever their shape (found by a black-box audit: stored in clear in session claims)', () => {
    const basic = Buffer.from('jack:hunter2').toString('base64');
    expectScrubbed([
      ['postgres://app:hunter2@db:5432/x', 'postgres://app:[redacted]@db:5432/x'],
      ['https://app/cb?user=j&password=hunter2&x=1', 'https://app/cb?user=j&password=[redacted]&x=1'],
      ['username=jack&password=hunter2', 'username=jack&password=[redacted]'],
      ['login failed; pwd=hunter2 key=k-1', 'login failed; pwd=[redacted] key=[redacted]'],
      ['a=b; password="two words"', 'a=b; password=[redacted]'],
      ['password%3Dhunter2', 'password=[redacted]'],
      [`Basic ${basic}`, 'Basic [redacted]'],
      ['Authorization: Bearer abc123short', 'Authorization: Bearer [redacted]'],
      ['NTLM TlRMTVNTUAABAAAAB4IIog==', 'NTLM [redacted]'],
      // No credential: kept as they are.
      ['tier: Basic plan', 'tier: Basic plan'],
      ['Basic 2', 'Basic 2'],
      ['Bearer authentication is used', 'Bearer authentication is used'],
      ['alice@example.com', 'alice@example.com'],
      ['mailto:bob@example.com', 'mailto:bob@example.com'],
      ['https://host/a?b=c&user=alice', 'https://host/a?b=c&user=alice'],
      ['time=12:00 user@host', 'time=12:00 user@host'],
      ['https://alice@example.com/', 'https://alice@example.com/'],
      ['password=', 'password='],
    ]);
    // In an identifier or a field name a credential is fingerprinted: two ids (names) stay two.
    const [a, b] = [scrubId('req?token=Abc1'), scrubId('req?token=Abc2')];
    expect([a, b]).toEqual([`req?token=[redacted token sha256:${sha256Hex('Abc1')}]`, `req?token=[redacted token sha256:${sha256Hex('Abc2')}]`]);
    expect(Object.keys(scrubValue({ 'token=Abc1': 1, 'token=Abc2': 2 }) as object)).toHaveLength(2);
    // A token's fingerprint stays: the parameter's value is already its mark.
    expect(scrubText(`/cb?id_token=${jwt}`)).toBe(`/cb?id_token=[redacted jwt sha256:${sha256Hex(jwt)}]`);
    expect(mayHoldToken('password=hunter2')).toBe(true);
    expect(mayHoldToken('Bearer abc')).toBe(true);
    expect(mayHoldToken('ftp://a:b@c')).toBe(true);
    expect(mayHoldToken('alice@example.com')).toBe(false);
    expect(mayHoldToken('Basic plan for alice')).toBe(true); // looked at closer, kept
    // JSON text in a string value (a claim holding JSON): its pairs redacted by name, as fields are.
    expect(scrubValue({ raw: '{"password":"hunter2","a":1}', ok: '{"a":1}' })).toEqual({ raw: '{"password":"[redacted]","a":1}', ok: '{"a":1}' });
    const kept = { ok: '{"a":1}' };
    expect(scrubShared(kept)).toBe(kept);
    const secretInside = { raw: '{"password":"x"}' };
    expect(scrubShared(secretInside)).toEqual({ raw: '{"password":"[redacted]"}' });
  });

  it('short JWE, URL-encoded short JWT, whole-value short JWT', () => {
    expect(scrubText(short5)).toBe(`[redacted jwt sha256:${sha256Hex(short5)}]`);
    expect(scrubText(encodeURIComponent(`t=${short}`))).toBe(`t=[redacted jwt sha256:${sha256Hex(short)}]`);
    expect(scrubValue({ v: short, l: [short] }, { wholeJwt: (t) => ({ fp: sha256Hex(t) }) })).toEqual({
      v: { fp: sha256Hex(short) },
      l: [{ fp: sha256Hex(short) }],
    });
  });
});

describe('scrubbing values and flat fields', () => {
  it('deep: secret names → [redacted], tokens replaced, the rest kept', () => {
    expect(scrubValue({ user: 'a', session: { sessionToken: 'x', SAMLResponse: 'PD94', note: `Bearer ${jwt}` }, list: [OPAQUE] })).toEqual({
      user: 'a',
      session: { sessionToken: '[redacted]', SAMLResponse: '[redacted]', note: `Bearer [redacted jwt sha256:${sha256Hex(jwt)}]` },
      list: [`[redacted token sha256:${sha256Hex(OPAQUE)}]`],
    });
  });
  it('a stream entry: dotted secret names, JSON fields and plain values', () => {
    const out = scrubFields({ event: JSON.stringify({ user: 'a', password: 'hunter2', t: jwt }), 'session.refresh-token': 'r', user: 'a', note: jwt });
    expect(JSON.parse(out.event!)).toEqual({ user: 'a', password: '[redacted]', t: `[redacted jwt sha256:${sha256Hex(jwt)}]` });
    expect(out['session.refresh-token']).toBe('[redacted]');
    expect(out.user).toBe('a');
    expect(out.note).toBe(`[redacted jwt sha256:${sha256Hex(jwt)}]`);
    // Nothing secret: byte for byte.
    const plain = '{"user":"a",  "type":"login"}';
    expect(scrubFields({ event: plain }).event).toBe(plain);
  });

  it('a shipper envelope’s line (message, log) holding the event as JSON is scrubbed as that event', () => {
    for (const key of ['message', 'log']) {
      const line = JSON.stringify({ type: 'login', user: 'a', time: 'bad', password: 'S3cret!', session: { id: 's', claims: { client_secret: 'x' } } });
      const out = scrubFields({ event: JSON.stringify({ [key]: line, host: 'h' }) });
      const inner = JSON.parse(JSON.parse(out.event!)[key]) as Record<string, unknown>;
      expect(inner).toMatchObject({ user: 'a', password: '[redacted]', session: { claims: { client_secret: '[redacted]' } } });
      expect(out.event).not.toContain('S3cret');
    }
    // Text that is not JSON is kept as text, a secret-named parameter in it redacted (a password by its context).
    const text = JSON.stringify({ message: 'plain text, password=S3cret is not JSON' });
    expect(scrubFields({ event: text }).event).toBe(JSON.stringify({ message: 'plain text, password=[redacted] is not JSON' }));
    // JSON text in any other string field (valid JSON around it), at any depth: scrubbed by its names.
    const nested = JSON.stringify({ type: 'x', data: JSON.stringify({ user: 'a', password: 'S3cret!' }), extra: { inner: ['{"api_key":"K3y!"}'] } });
    const out = scrubFields({ event: nested }).event!;
    expect(out).not.toContain('S3cret');
    expect(out).not.toContain('K3y');
    expect(JSON.parse(JSON.parse(out).data)).toEqual({ user: 'a', password: '[redacted]' });
    // A line with a prefix before its JSON: its pairs are redacted by name all the same.
    const prefixed = scrubFields({ event: JSON.stringify({ message: 'app[1]: {"user":"a","password":"S3cret!"}', host: 'h' }) }).event!;
    expect(prefixed).not.toContain('S3cret');
    expect(JSON.parse(prefixed).message).toBe('app[1]: {"user":"a","password":"[redacted]"}');
  });

  it.each([
    ['cut short after a secret', '{"type":"login","password":"Hunter2Secret!","user":', '{"type":"login","password":"[redacted]","user":'],
    ['cut short inside a secret', '{"type":"login","password":"Hunter2Sec', '{"type":"login","password":"[redacted]"'],
    [
      'a bare value, escaped quotes',
      '{"n":1,"api_key": 12345,"u":"a\\"b","token":"x\\"y",',
      '{"n":1,"api_key": "[redacted]","u":"a\\"b","token":"[redacted]",',
    ],
    ['nested one level down', '{"user":"g4","creds":{"password":"hunter2-NESTED"},"x":', '{"user":"g4","creds":{"password":"[redacted]"},"x":'],
    ['an escaped key name', '{"user":"g1","pass\\u0077ord":"hunter2-ESCAPED",', '{"user":"g1","pass\\u0077ord":"[redacted]",'],
    ['nothing secret: as it was', '{"type":"login","user":"bob"', '{"type":"login","user":"bob"'],
    [
      'a line holding escaped JSON',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"hunter2-LINE\\"}","x":',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"[redacted]\\"}","x":',
    ],
    [
      'a line holding escaped JSON, cut short inside it',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"hunter2-CUT',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"[redacted]\\"',
    ],
    ['a line with escaped quotes, nothing secret: as it was', '{"message":"say \\"hi\\"","x":', '{"message":"say \\"hi\\"","x":'],
    [
      'a line of escaped JSON cut right after a backslash',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"hunter2\\',
      '{"host":"h","message":"{\\"user\\":\\"a\\",\\"password\\":\\"[redacted]\\"',
    ],
    ['a secret value cut right after a backslash', '{"user":"a","password":"hun\\', '{"user":"a","password":"[redacted]"'],
    [
      'a line of escaped JSON with an invalid escape in it',
      '{"message":"{\\"path\\":\\"C:\\temp\\",\\"password\\":\\"hunter2\\"}","x":',
      '{"message":"{\\"path\\":\\"C:\\temp\\",\\"password\\":\\"[redacted]\\"}","x":',
    ],
    [
      'a line with a prefix before its escaped JSON',
      '{"message":"app[1]: {\\"password\\":\\"hunter2\\"}","x":',
      '{"message":"app[1]: {\\"password\\":\\"[redacted]\\"}","x":',
    ],
  ])('JSON that does not parse (%s): secret-named values still redacted', (_n, text, expected) => {
    expect(scrubFields({ event: text }).event).toBe(expected);
  });
});

describe('tokens as keys (found by a black-box review: a JWT key in claims was stored and served as it was)', () => {
  it('scrubValue and scrubShared fingerprint a token that is a key', () => {
    const v = { sessions: { [jwt]: 'active', [OPAQUE]: 1, plain: 2 } };
    const want = { sessions: { [`[redacted jwt sha256:${sha256Hex(jwt)}]`]: 'active', [`[redacted token sha256:${sha256Hex(OPAQUE)}]`]: 1, plain: 2 } };
    expect(scrubValue(v)).toEqual(want);
    expect(scrubShared(v)).toEqual(want);
    const keep = { sessions: { plain: 2 } };
    expect(scrubShared(keep)).toBe(keep);
  });
});

describe('scrubShared: scrubValue without copying what stays the same', () => {
  const deep = (n: number): unknown => (n === 0 ? 'leaf' : { a: deep(n - 1) });
  const clean = { email: 'a@x', groups: ['eng'], n: 1, ok: true, none: null, nested: { os: 'macOS 15.1', list: [{ x: 1 }] } };
  it('gives back the value itself when nothing in it changes', () => {
    expect(scrubShared(clean)).toBe(clean);
    expect(scrubShared(clean.groups)).toBe(clean.groups);
    expect(scrubShared(deep(31))).toStrictEqual(scrubValue(deep(31)));
  });
  it.each<[string, unknown]>([
    ['a secret name', { user: 'a', password: 'x' }],
    ['a token inside', { a: { b: [`Bearer ${jwt}`] } }],
    ['an opaque token', [OPAQUE]],
    ['an own __proto__ field', JSON.parse('{"a":1,"__proto__":{"b":2}}')],
    ['an undefined field', { a: 1, b: undefined }],
    ['an array hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['a function', { a: 1, f: () => 1 }],
    ['a prototype-less object', Object.assign(Object.create(null) as object, { a: 1 })],
    ['a Date', { d: new Date(0) }],
    ['nesting beyond 32 levels', deep(40)],
  ])('copies as scrubValue does when there is %s', (_n, v) => {
    const out = scrubShared(v);
    expect(out).not.toBe(v);
    expect(out).toStrictEqual(scrubValue(v));
    expect(JSON.stringify(out)).toBe(JSON.stringify(scrubValue(v)));
  });
  it('applies the caller’s options (names, whole-value tokens)', () => {
    const opts = { secretName: (k: string) => k === 'email', wholeJwt: (t: string) => ({ fp: sha256Hex(t) }) };
    expect(scrubShared({ email: 'a', x: [jwt] }, opts)).toEqual({ email: '[redacted]', x: [{ fp: sha256Hex(jwt) }] });
    expect(scrubShared({ mail: 'a' }, opts)).toEqual({ mail: 'a' });
  });
});
