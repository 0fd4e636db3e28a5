import { createHash } from 'node:crypto';

/**
 * Privacy filters for stored session identities (pure). A raw token is never stored:
 * JWT/JWS/JWE-looking strings become a SHA-256 fingerprint, configured claim names and
 * well-known secret-bearing field names become "[redacted]".
 */

/** What a JWT-looking value is stored as. */
export interface RedactedJwt {
  redacted: 'jwt';
  /** Hex SHA-256 of the full token: lets an admin match a token they hold, never reveals it. */
  sha256: string;
}

/** Replacement for redacted claims and secret fields. */
export const REDACTED = '[redacted]';

/** Field names whose values are always redacted, at any depth (case-insensitive). */
export const SECRET_FIELDS: readonly string[] = [
  'access_token', 'id_token', 'refresh_token', 'session_token', 'token', 'password', 'secret', 'client_secret', 'authorization', 'cookie',
];

const JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;
const JWE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;
/** Candidates inside a longer string (`Bearer eyJ…`, `…?token=eyJ…`). */
const EMBEDDED = /(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}(?![A-Za-z0-9_.-])/g;
const MAX_DEPTH = 32;

/** Hex SHA-256 of a string. */
export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

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
  if (s.length < 8 || !(JWS.test(s) || JWE.test(s))) return false;
  return jsonHeader(s.slice(0, s.indexOf('.')));
}

/** The stored form of a token. */
export function redactJwt(token: string): RedactedJwt {
  return { redacted: 'jwt', sha256: sha256Hex(token) };
}

/**
 * A string with tokens removed: a whole-string token becomes a {@link RedactedJwt}; tokens
 * embedded in a longer string become `[redacted jwt sha256:<hex>]`.
 */
export function redactString(s: string): string | RedactedJwt {
  if (looksLikeJwt(s)) return redactJwt(s);
  if (!s.includes('.')) return s;
  return s.replace(EMBEDDED, (m) => (looksLikeJwt(m) ? `[redacted jwt sha256:${sha256Hex(m)}]` : m));
}

/** Options for {@link redactValue}. */
export interface RedactOptions {
  /** Lower-cased field names stored as "[redacted]" at any depth. */
  names: ReadonlySet<string>;
}

/** Builds the option set: the configured names plus {@link SECRET_FIELDS}. */
export function redactOptions(extraNames: readonly string[] = [], withSecrets = true): RedactOptions {
  return { names: new Set([...(withSecrets ? SECRET_FIELDS : []), ...extraNames].map((n) => n.toLowerCase())) };
}

/**
 * Deep copy of a JSON-like value with tokens fingerprinted and named fields redacted.
 * Non-JSON values (functions, symbols) are dropped; nesting beyond 32 levels is cut.
 */
export function redactValue(v: unknown, opts: RedactOptions, depth = 0): unknown {
  if (typeof v === 'string') return redactString(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(v)) return v.map((x) => redactValue(x, opts, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (opts.names.has(k.toLowerCase())) {
      out[k] = REDACTED;
      continue;
    }
    const r = redactValue(x, opts, depth + 1);
    if (r !== undefined) out[k] = r;
  }
  return out;
}
