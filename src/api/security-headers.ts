/**
 * The headers every answer of the HTTP server carries, the console's page aside (it sends its own
 * CSP, src/api/console-files.ts): no type sniffing, no referrer, no framing, and a policy that
 * lets nothing load or run should an answer be opened as a document (a JSON answer quoting a user
 * id, a session id or a claim an attacker chose). Authentication is by bearer token only: no
 * answer sets a cookie, so a cross-site request has nothing to ride on (no CSRF).
 */
import type { FastifyReply } from 'fastify';

/** The Content-Security-Policy of every answer that is not the console's page. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Header name (lower case) → value, for every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': API_CSP,
};

/** Sets each of {@link SECURITY_HEADERS} a route has not set itself (the console's page keeps its CSP). */
export function applySecurityHeaders(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
}

/** {@link SECURITY_HEADERS} as raw HTTP/1.1 header lines (each ending in CRLF), for answers written to the socket. */
export function rawSecurityHeaders(): string {
  return Object.entries(SECURITY_HEADERS)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
}
