/**
 * Secret-bearing field names (pure). A name is compared in normalised form — camelCase split,
 * lower-cased, `-`, `_`, `.` and spaces removed — so `accessToken`, `access_token`,
 * `Access-Token`, `SAMLResponse`, `refresh-token`, `x-api-key` and `client_secret` all match.
 */

/** Words that make a field secret wherever they appear in its normalised name. */
export const SECRET_NAME_WORDS: readonly string[] = [
  'token',
  'secret',
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'assertion',
  'saml',
  'cookie',
  'authorization',
  'apikey',
  'privatekey',
  'credential',
  'signature',
  'otp',
  'bearer',
];

/** Short names that are secret only as the whole (normalised) name. */
const EXACT: ReadonlySet<string> = new Set(['pwd', 'pin', 'sig', 'jwt', 'key', 'codeverifier']);

/** Field names are few (claims, headers, event fields): results are remembered, up to this many. */
const MEMO_MAX = 4096;

/**
 * Longest name remembered: a longer one (a claim named with 500 000 characters) is judged each
 * time, never kept — the memo held up to {@link MEMO_MAX} of them, gigabytes across events.
 */
const MEMO_MAX_LENGTH = 256;

/** `f` memoised per string argument (bounded: cleared when full; long arguments not kept). */
function memoised<T>(f: (s: string) => T): (s: string) => T {
  const memo = new Map<string, T>();
  return (s) => {
    if (s.length > MEMO_MAX_LENGTH) return f(s);
    let v = memo.get(s);
    if (v === undefined && !memo.has(s)) {
      v = f(s);
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(s, v);
    }
    return v as T;
  };
}

/** `accessToken` → `accesstoken`, `SAML-Response` → `samlresponse`, `client_secret` → `clientsecret`. */
export const normaliseName: (name: string) => string = memoised((name) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, ''),
);

/** Words of a name (camelCase, `-`, `_`, `.`, spaces): `SAMLResponse` → `saml`, `response`. */
function words(name: string): string[] {
  return (
    name
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      // A capital before a capitalised word (`SAMLResponse` → `SAML Response`), found by lookahead:
      // `([A-Z]+)([A-Z][a-z])` rescanned a run of capitals from each of them (quadratic time: a claim
      // named with 100 000 capitals held the worker 8 s).
      .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1 ')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean)
  );
}

/** True when a field with this name holds a secret (see {@link SECRET_NAME_WORDS}). Memoised: a hot path. */
export const isSecretName: (name: string) => boolean = memoised((name) => {
  const n = normaliseName(name);
  if (n === '') return false;
  if (EXACT.has(n)) return true;
  // `otp` only as a word of its own (not inside `footprint`); the rest anywhere in the name.
  if (words(name).includes('otp')) return true;
  return SECRET_NAME_WORDS.some((w) => w !== 'otp' && n.includes(w));
});

/** A matcher: {@link isSecretName}, plus `extra` names compared in normalised form. */
export function secretNameMatcher(extra: readonly string[] = [], withBuiltIn = true): (name: string) => boolean {
  const set = new Set(extra.map(normaliseName));
  return (name) => set.has(normaliseName(name)) || (withBuiltIn && isSecretName(name));
}
