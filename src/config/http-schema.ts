/**
 * The `http` section of riskstream.yaml: where the admin API listens, the bearer tokens of each
 * scope, and the bounds every request is held to (body size, arrival time, Redis waits, ingest
 * concurrency).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { durationMs, positiveMs } from '../duration.js';
import { isHttpsOrLocal, noCredentials, noQueryOrFragment } from './url-rules.js';
import { tokenProblem } from './env-tokens.js';
import { checkedString } from './checked-string.js';
import { parseIp } from '../net/address-class.js';

/** Ranges `http.trust_proxy` may name besides addresses and CIDRs (proxy-addr's names). */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * An `http.trust_proxy` entry: an IP address (a dotted quad or IPv6, no brackets), a CIDR of one, or
 * one of {@link PROXY_RANGES} — all forms the server's proxy-addr takes (it throws at start on others).
 */
function isProxyEntry(e: string): boolean {
  if (PROXY_RANGES.includes(e)) return true;
  const [addr = '', bits] = e.split('/');
  return !addr.startsWith('[') && parseIp(addr) !== undefined && (bits === undefined || ipaddr.isValidCIDR(e));
}

const proxyEntry = z.string().refine(isProxyEntry, {
  message: `must be an IP address, a CIDR (10.0.0.0/8) or one of ${PROXY_RANGES.join(', ')}`,
});

/** A list of bearer tokens (`http.*_tokens`): each one {@link tokenProblem} accepts. */
const tokenList = z.array(checkedString(tokenProblem)).default([]);

/** The HTTP server: address, tokens by scope, request bounds, public URL. */
export const httpSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z
      .string()
      .refine((h) => isIP(h) !== 0 || (/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h) && !/^[\d.]+$/.test(h)), {
        message: 'must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name',
      })
      .default('0.0.0.0'),
    admin_tokens: tokenList,
    ingest_tokens: tokenList,
    /** Tokens SSF receivers use for the stream management API (`/ssf/*`). */
    ssf_tokens: tokenList,
    /** Tokens that may read `GET /metrics` and nothing else (for Prometheus). */
    metrics_tokens: tokenList,
    /**
     * Bytes of a `POST /v1/events` body, after decompression too. 16 MiB: a Vector http sink's default batch
     * (10 MB by its estimate, which leaves JSON escapes out) fits; Vector drops a batch refused with 413.
     * Other routes take at most 5 MiB (src/api/server.ts API_BODY_LIMIT), or this when smaller.
     */
    body_limit: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** A request (headers and body) must arrive within this; a slower one gets 408 and is closed (a client trickling a body holds its memory). */
    request_timeout: durationMs.prefault('60s'),
    /** A `/v1/*` or `/ssf/*` request still waiting after this, with Redis not answering a 1 s PING either: 503 `unavailable`. */
    redis_timeout: positiveMs.prefault('5s'),
    /**
     * Records in one `POST /v1/events` body; beyond → 413, found while splitting, before parsing.
     * 500 000: a Vector http sink's default batch (10 MB by its estimate, no event limit) of the
     * smallest events (`{"type":"x","user":"u"}`, 23 bytes: 434 783 of them) fits.
     */
    max_records: z.number().int().positive().default(500_000),
    /** `POST /v1/events` bodies decoded at once per worker (each holds its records in memory). */
    ingest_concurrency: z.number().int().positive().default(1),
    /** Bodies waiting for their turn (or still arriving) beyond that; more → 429 `ingest_busy` with Retry-After, before the body is read. */
    ingest_queue: z.number().int().nonnegative().default(8),
    /**
     * Unknown bearer tokens from one client address within `window` that get it refused for
     * `block`: 429 `auth_throttled` with Retry-After, answered before its token is checked (a valid
     * one too). Per worker process; `limit: 0` = never refused.
     */
    auth_failures: z
      .strictObject({
        limit: z.number().int().nonnegative().default(20),
        window: positiveMs.prefault('1m'),
        block: positiveMs.prefault('5m'),
      })
      .prefault({}),
    /**
     * The reverse proxies / load balancers in front (addresses, CIDRs, `loopback`, `linklocal`,
     * `uniquelocal`) whose `X-Forwarded-For` names the client: the address failed authentications
     * are counted and logged under. Default none: the connection's peer (a client's own
     * X-Forwarded-For is never believed: it could name anyone).
     */
    trust_proxy: z.array(proxyEntry).default([]),
    /** Public base URL of this server (for jwks_uri etc.); defaults to the issuer. https (http only for localhost), no query or fragment: paths are appended to it. */
    public_url: z
      .url()
      .refine(isHttpsOrLocal, {
        message:
          'public_url must be an https URL (http only for localhost): the SSF metadata publishes jwks_uri and the endpoints under it (SSF 1.0 §7.1: HTTP over TLS)',
      })
      .refine(noQueryOrFragment, { message: 'public_url must have no query or fragment (the SSF endpoints are paths appended to it)' })
      .refine(noCredentials, { message: 'public_url must name no user or password (it is published in the SSF metadata)' })
      .optional(),
  })
  .prefault({});
