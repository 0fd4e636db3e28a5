import { looksLikeJwt, scrubText, sha256Hex } from '../secrets/secret-values.js';
import { normaliseName, isSecretName } from '../secrets/secret-names.js';
import { REDACTED, scrubValue, type ScrubOptions } from '../secrets/scrub.js';

/**
 * Privacy filters for stored session identities (pure), on top of src/secrets/: a raw token is
 * never stored — a whole-value JWT/JWS/JWE becomes a SHA-256 fingerprint object, tokens inside
 * text `[redacted jwt|token sha256:<hex>]`; secret-named fields (normalised: `accessToken`,
 * `SAMLResponse`, `refresh-token` …) and configured claim names become "[redacted]".
 */

export { looksLikeJwt, sha256Hex, REDACTED };

/** What a JWT-looking value is stored as. */
export interface RedactedJwt {
  redacted: 'jwt';
  /** Hex SHA-256 of the full token: lets an admin match a token they hold, never reveals it. */
  sha256: string;
}

/** Examples of field names always redacted (any name whose normalised form holds a secret word matches). */
export const SECRET_FIELDS: readonly string[] = [
  'access_token',
  'id_token',
  'refresh_token',
  'session_token',
  'token',
  'password',
  'secret',
  'client_secret',
  'authorization',
  'cookie',
  'accessToken',
  'sessionToken',
  'SAMLResponse',
  'assertion',
  'apiKey',
];

/** The stored form of a token. */
export function redactJwt(token: string): RedactedJwt {
  return { redacted: 'jwt', sha256: sha256Hex(token) };
}

/**
 * A string with tokens removed: a whole-string token becomes a {@link RedactedJwt}; tokens
 * embedded in a longer string become `[redacted jwt sha256:<hex>]` (opaque ones `[redacted token …]`).
 */
export function redactString(s: string): string | RedactedJwt {
  return looksLikeJwt(s) ? redactJwt(s) : scrubText(s);
}

/** Options for {@link redactValue}. */
export interface RedactOptions {
  /** Normalised field names stored as "[redacted]" at any depth (configured claims). */
  names: ReadonlySet<string>;
  /** Whether secret-named fields (src/secrets/secret-names.ts) are redacted too. */
  secrets: boolean;
}

/** Builds the option set: the configured names, plus every secret-bearing name unless `withSecrets` is false. */
export function redactOptions(extraNames: readonly string[] = [], withSecrets = true): RedactOptions {
  return { names: new Set(extraNames.flatMap(claimNames).map(normaliseName)), secrets: withSecrets };
}

/**
 * The names a configured claim redacts: itself, and for a dotted path (`address.street`,
 * `claims.ssn`, as `ingest.scrub_fields` writes one; not a URI-named claim) its last name too, at
 * any depth — matched as one name only, the path redacted nothing.
 */
function claimNames(name: string): string[] {
  const path = name.includes('/') ? [] : name.split('.').filter((p) => p.trim() !== '');
  return path.length > 1 ? [name, path.at(-1)!] : [name];
}

/** Scrub options per option set, made once (not a closure per value). */
const prepared = new WeakMap<RedactOptions, ScrubOptions>();

/**
 * The {@link scrubValue} options applying `opts` (made once per option set; they read `opts` when
 * called): what {@link redactValue} uses, for callers walking a value's fields themselves.
 */
export function redactScrubOptions(opts: RedactOptions): ScrubOptions {
  let s = prepared.get(opts);
  if (!s) {
    s = {
      // No configured names (the usual case outside claims): no normalisation needed.
      secretName: (k) => (opts.names.size > 0 && opts.names.has(normaliseName(k))) || (opts.secrets && isSecretName(k)),
      wholeJwt: redactJwt,
    };
    prepared.set(opts, s);
  }
  return s;
}

/**
 * Deep copy of a JSON-like value with tokens fingerprinted and named fields redacted.
 * Non-JSON values (functions, symbols) are dropped; nesting beyond 32 levels is cut.
 */
export function redactValue(v: unknown, opts: RedactOptions): unknown {
  return scrubValue(v, redactScrubOptions(opts));
}

/** The option set of the last configured name list {@link redactClaimsNow} was given (reloads change it rarely). */
let lastNames: { list: readonly string[]; opts: RedactOptions } | undefined;

/**
 * Claims as an admin may see them now: the names configured in `sessions.redact_claims` at the
 * time of reading are "[redacted]" at any depth, also in an identity stored before a reload named
 * them (it keeps what it was stored with until then, for up to its session's lifetime). The same
 * object when no name is configured.
 */
export function redactClaimsNow(claims: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  if (!names.length || typeof claims !== 'object' || claims === null) return claims;
  if (lastNames?.list !== names) lastNames = { list: names, opts: redactOptions(names, false) };
  return redactValue(claims, lastNames.opts) as Record<string, unknown>;
}
