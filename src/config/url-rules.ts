/** Rules for the URLs riskstream.yaml names (Redis, the issuer, the public URL). */

/** A Redis URL as `redis.url` (and `REDIS_URL`) takes: redis:// or rediss://, or a unix socket path. */
export function isRedisUrl(u: string): boolean {
  return u.startsWith('/') || (/^rediss?:\/\//i.test(u) && URL.canParse(u));
}

/**
 * A URL without a query or fragment (SSF 1.0 §7.1: the issuer has none; paths are appended to it).
 * In a URL a `?` or `#` is always the delimiter (a literal one is percent-encoded), so an empty
 * query or fragment (`https://host/?`) counts too.
 */
export function noQueryOrFragment(u: string): boolean {
  return !/[?#]/.test(u);
}

/** A URL naming no user or password (`https://user:pass@host`): one that is published (a SET's `iss`, the SSF metadata) must not carry credentials. */
export function noCredentials(u: string): boolean {
  if (!URL.canParse(u)) return true;
  const url = new URL(u);
  return url.username === '' && url.password === '';
}

/**
 * An https URL, or http for a local development host (localhost, 127.0.0.1, [::1]): SSF 1.0 §7.1
 * has the issuer, `jwks_uri` and every management endpoint of the metadata "use HTTP over TLS".
 */
export function isHttpsOrLocal(u: string): boolean {
  return /^https:\/\/[^/]/i.test(u) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/i.test(u);
}
