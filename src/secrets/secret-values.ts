import { createHash } from 'node:crypto';
import { isSecretName } from './secret-names.js';

/**
 * Secret-shaped values (pure): JWT/JWS/JWE (a base64url JSON header, `eyJ…`) and long opaque
 * high-entropy tokens (≥ 32 characters of a base64/base62 alphabet, mixed case and digits),
 * found on token boundaries anywhere in a string — after `Bearer `, inside a URL, followed by
 * `.` — and in the URL-decoded form of the string (`%3DeyJ…`).
 */

/** Hex SHA-256 of a string: lets an admin match a token they hold, never reveals it. */
export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

const JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;
const JWE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;
/**
 * Dotted base64url candidates, each from the start of its run of the alphabet (a JWT's header
 * glued to a prefix, `%3DeyJ…`, `evt-eyJ…`, is found inside the candidate by {@link redactDotted}).
 * Never from an `eyJ` inside a run: a run that is no candidate was then scanned again from each of
 * its `eyJ`s, quadratic time (150 000 characters of `eyJeyJ…` in a claim held the worker 20 s).
 */
const DOTTED = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]+){1,4}\.?/g;
/** Opaque token candidates on boundaries (a query's `=` is one: `?access_token=…`). */
const OPAQUE = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_=-])/g;
/** A path's word (`home`, `Salesforce`, `Projects2024`, `v1`, `1234`): a run holding one is a path. */
const PATH_WORD = /^(?:[A-Za-z][a-z]*[0-9]*|[0-9]+)$/;
/** Shortest opaque token considered. */
export const MIN_OPAQUE_LENGTH = 32;

function jsonHeader(part: string): boolean {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** True when `s` is a compact JWS/JWT (3 parts) or JWE (5 parts) whose first part decodes to a JSON object. */
export function looksLikeJwt(s: string): boolean {
  if (s.length < 8 || s.indexOf('.') < 0 || !(JWS.test(s) || JWE.test(s))) return false;
  return jsonHeader(s.slice(0, s.indexOf('.')));
}

function entropyBits(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/**
 * True for a long opaque token: ≥ 32 characters of `[A-Za-z0-9+/_-]` (`=` padding), upper and
 * lower case letters and digits mixed, ≥ 4 bits of entropy per character. Lower-case hex (SHA
 * digests, UUIDs) and words are not tokens.
 */
export function looksLikeOpaqueToken(s: string): boolean {
  const t = s.replace(/=+$/, '');
  if (t.length < MIN_OPAQUE_LENGTH || !/^[A-Za-z0-9+/_-]+$/.test(t)) return false;
  if (!/[a-z]/.test(t) || !/[A-Z]/.test(t) || !/[0-9]/.test(t)) return false;
  return entropyBits(t) >= 4;
}

function decodeUrl(s: string): string {
  // Sequence by sequence: one malformed `%` does not stop the rest from being decoded.
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

/**
 * A dotted run holding a token at its start: the whole run, a JWE (5 parts) or a JWS (3 parts)
 * followed by more dots; or one glued to a prefix of the token alphabet (`evt-eyJ…`, `id_eyJ…`),
 * found at its header's `eyJ`.
 */
function redactDotted(m: string): string {
  const parts = m.split('.');
  for (const n of [parts.length, 5, 3]) {
    if (n > parts.length) continue;
    const t = parts.slice(0, n).join('.');
    if (looksLikeJwt(t)) return `[redacted jwt sha256:${sha256Hex(t)}]${m.slice(t.length)}`;
  }
  const glued = parts[0]!.indexOf('eyJ', 1);
  return glued > 0 ? m.slice(0, glued) + redactDotted(m.slice(glued)) : m;
}

/** The mark an opaque token is replaced by: `[redacted token sha256:<hex>]`. */
export const redactedToken = (t: string): string => `[redacted token sha256:${sha256Hex(t)}]`;

/**
 * The mark one of the worker's own secrets (src/secrets/known-secrets.ts) is replaced by: no
 * fingerprint, since a hash of a token a person chose would let whoever reads it (a receiver of the
 * SET carrying a reason) test guesses offline.
 */
export const REDACTED_KNOWN = '[redacted token]';

/** Any mark {@link scrubText} or a known-secret scrub leaves (`[redacted jwt|token sha256:<hex>]`, {@link REDACTED_KNOWN}, `[redacted]`), every one in a text. */
export const REDACTION_MARKS = /\[redacted(?: (?:jwt|token)(?: sha256:[0-9a-f]+)?)?\]/g;

/**
 * An opaque candidate. A run with `/` (base64's alphabet has it) that reads as a path — it starts or
 * ends with `/`, or holds an empty segment or a word — is judged segment by segment: a token in a
 * path (`test/dl/<token>`, `fromURI=/home/App/<token>`) is redacted alone, the path kept. Any other
 * run is one candidate: a standard base64 token with `/` is redacted (and hashed) whole.
 */
function redactOpaque(m: string): string {
  if (m.includes('/')) {
    const segs = m.split('/');
    if (segs.some((g) => g === '' || PATH_WORD.test(g))) return segs.map((g) => (looksLikeOpaqueToken(g) ? redactedToken(g) : g)).join('/');
  }
  return looksLikeOpaqueToken(m) ? redactedToken(m) : m;
}

function replaceTokens(s: string): string {
  return s.replace(DOTTED, redactDotted).replace(OPAQUE, redactOpaque);
}

/** The mark a credential found by its context (below) is replaced by: no fingerprint, since a password's hash can be guessed offline. */
export const REDACTED_CREDENTIAL = '[redacted]';

/**
 * A `name=value` parameter of a query, a form body or a log line (`?password=…&`, `token=…`):
 * the value up to the next `&`, `#`, `;`, space or quote, or a quoted one (up to 256 characters: the
 * scan stays linear); one already marked is kept (its fingerprint).
 */
const PARAM = /(^|[?&;#\s,"'(])([A-Za-z0-9_.[\]-]{1,64})=(\[redacted[^\]]*\]|"[^"\n]{1,256}"|'[^'\n]{1,256}'|[^&#;\s"']*)/g;
/** A URL's user information with a password: `scheme://user:password@host`. */
const USERINFO = /(\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#@:]*):([^\s/?#@]+)@/g;
/** HTTP credentials (RFC 9110 §11.4: `Basic`, `Bearer` … and a token68) not already marked. */
const AUTH_SCHEME = /(?<![A-Za-z0-9_-])(Basic|Bearer|Negotiate|NTLM)(\s+)([A-Za-z0-9._~+/-]+=*)/gi;
/** A run that reads as a word of text, not a credential (`Bearer authentication`, `basic plan`). */
const PLAIN_WORD = /^[A-Za-z]+$/;

/** What a credential becomes: `[redacted]` in text; in an identifier, its fingerprint (two ids stay two). */
export type CredentialMark = (credential: string) => string;
const plainMark: CredentialMark = () => REDACTED_CREDENTIAL;

function redactScheme(mark: CredentialMark, m: string, scheme: string, gap: string, cred: string): string {
  if (PLAIN_WORD.test(cred)) return m;
  // Basic: base64 of `user:password` (anything else, `Basic 2`, is text).
  if (scheme.toLowerCase() === 'basic' && !Buffer.from(cred, 'base64').toString('latin1').includes(':')) return m;
  return `${scheme}${gap}${mark(cred)}`;
}

/**
 * Credentials found by their context rather than their shape: the value of a secret-named
 * parameter (`password=hunter2`, `?token=…`), a URL's password (`postgres://app:pw@db`) and an
 * HTTP `Basic` / `Bearer` / `Negotiate` / `NTLM` credential, each replaced by `[redacted]`.
 */
function replaceCredentials(s: string, mark: CredentialMark): string {
  let out = s;
  if (out.includes('='))
    out = out.replace(PARAM, (m, pre: string, name: string, value: string) =>
      value === '' || value.startsWith('[redacted') || !isSecretName(name) ? m : `${pre}${name}=${mark(value)}`,
    );
  if (out.includes('@')) out = out.replace(USERINFO, (_m, head: string, password: string) => `${head}:${mark(password)}@`);
  return out.replace(AUTH_SCHEME, (m, scheme: string, gap: string, cred: string) => redactScheme(mark, m, scheme, gap, cred));
}

const replaceSecrets = (s: string, mark: CredentialMark): string => replaceCredentials(replaceTokens(s), mark);

/** Auth schemes {@link AUTH_SCHEME} redacts after, lower-cased. */
const SCHEMES: ReadonlySet<string> = new Set(['basic', 'bearer', 'negotiate', 'ntlm']);

/**
 * False when `s` cannot hold a token or a credential, so {@link scrubText} returns it unchanged and
 * it is no JWT (a single pass, no allocation): no `%`, no run of `[A-Za-z0-9_.-]` with two dots (a
 * JWS/JWE has at least two), no run of 32 `[A-Za-z0-9+/_-]` (an opaque token's least), no `=` (a
 * parameter), no `@` after a `:` (a URL's password) and no auth scheme followed by a space. True: look closer.
 */
export function mayHoldToken(s: string): boolean {
  let run = 0; // length of the current run of the opaque-token alphabet
  let dots = 0; // dots in the current run of the dotted (base64url and `.`) alphabet
  let colon = false; // a `:` seen: an `@` after it may end a URL's password
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45) {
      if (++run >= MIN_OPAQUE_LENGTH) return true;
    } else if (c === 46) {
      run = 0;
      if (++dots >= 2) return true;
    } else if (c === 43 || c === 47) {
      if (++run >= MIN_OPAQUE_LENGTH) return true;
      dots = 0;
    } else if (c === 37 || c === 61 || (c === 64 && colon)) {
      return true;
    } else {
      if (c === 58) colon = true;
      else if ((c === 32 || c === 9) && run >= 4 && run <= 9 && SCHEMES.has(s.slice(i - run, i).toLowerCase())) return true;
      run = 0;
      dots = 0;
    }
  }
  return false;
}

/**
 * `s` with every JWT and opaque token replaced by `[redacted jwt|token sha256:<hex>]`, and every
 * credential its context names by `mark` of it (default `[redacted]`). When the URL-decoded text
 * (up to two rounds) holds a token the raw text does not show, the decoded text is returned, scrubbed.
 */
export function scrubText(s: string, mark: CredentialMark = plainMark): string {
  if (!mayHoldToken(s)) return s;
  const direct = replaceSecrets(s, mark);
  if (!s.includes('%')) return direct;
  let decoded = s;
  for (let i = 0; i < 2 && decoded.includes('%'); i++) decoded = decodeUrl(decoded);
  if (decoded === s) return direct;
  const scrubbed = replaceSecrets(decoded, mark);
  return scrubbed === decoded ? direct : scrubbed;
}

/** A UUID (Okta's `uuid`, Entra's `id`): no token. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A credential in an identifier or a field name: its fingerprint, so two ids (names) stay two. */
export const fingerprintMark: CredentialMark = redactedToken;

/**
 * An identifier (an event's or a device's id) with its tokens and credentials fingerprinted
 * ({@link scrubText}, {@link fingerprintMark}: ids that differ stay different); a UUID, the usual
 * id, as it is without a closer look. The same id always reads the same.
 */
export function scrubId(s: string): string {
  return UUID.test(s) ? s : scrubText(s, fingerprintMark);
}
