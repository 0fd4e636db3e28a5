/**
 * RFC 8935 push delivery: POST the compact SET and classify the answer. Never throws for
 * receiver behaviour — every result is a typed {@link PushOutcome}. The Authorization header
 * value is sent, never returned or logged.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isRiskstreamError } from '../errors.js';
import { pinnedLookup, type EndpointPolicy, type PinnedEndpoint } from './endpoint-policy.js';
import { SET_TYP } from './set-builder.js';
import { knownSecrets, scrubAll } from '../secrets/known-secrets.js';

/** RFC 8935 §2.3 error codes (others are passed through as they come). */
export type PushErrorCode =
  'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied' | (string & {});

/** What a push attempt came to. */
export type PushOutcome =
  /** Any 2xx. */
  | { kind: 'delivered'; status: number }
  /** 400 `{err, description}` (or another 4xx/3xx): the SET will never be accepted. `err` only as the receiver sent it. */
  | { kind: 'permanent'; status: number; err?: PushErrorCode; description?: string }
  /** 400 `invalid_key`: may succeed once the receiver refreshes our JWKS. */
  | { kind: 'invalid_key'; status: 400; err: 'invalid_key'; description?: string }
  /** 401 / 403: our Authorization is wrong (`err` as the receiver sent it, if it did). */
  | { kind: 'unauthorized'; status: number; err?: PushErrorCode; description?: string }
  /** 429; `retryAfterMs` from Retry-After when present. */
  | { kind: 'rate_limited'; status: 429; retryAfterMs?: number }
  /** 5xx, 408, timeout or network error; `retryAfterMs` from a 5xx's (a 503's) Retry-After when present. */
  | { kind: 'retryable'; status?: number; reason: 'http' | 'timeout' | 'network'; message: string; retryAfterMs?: number }
  /** The endpoint policy refused the address at send time (nothing was sent). */
  | { kind: 'refused'; reason: string; message: string };

/** One push. */
export interface PushRequest {
  endpoint: string;
  set: string;
  /** Authorization header value (secret). */
  authorization?: string;
  timeoutMs: number;
  /** Clock for Retry-After dates (epoch ms); defaults to Date.now(). */
  now?: () => number;
  /**
   * For self-registered streams: the host is resolved and checked once, and the connection
   * goes to that address only (no second DNS answer can redirect it).
   */
  policy?: EndpointPolicy;
}

const MAX_ERROR_BODY = 16 * 1024;

/**
 * Most of a body that is read only to be dropped (a 2xx, 429 or 5xx answer): past it, or past
 * the push's timeout, the connection is closed instead (a receiver streaming its answer without
 * end would otherwise hold a socket, and the CPU reading it, for good).
 */
const MAX_DISCARDED_BODY = 64 * 1024;

/** How much of a receiver's error text reaches the audit log and console. */
export const REMOTE_TEXT_MAX = 256;

// C0/C1 controls, DEL, and bidirectional overrides/isolates (which reorder what is displayed).
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]+/gu;

/** A receiver-supplied string made safe to record: control characters replaced, at most `max` characters. */
export function remoteText(value: string, max = REMOTE_TEXT_MAX): string {
  const clean = value.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * `o` with the receiver's own words (`err`, `description`, `message`) cleared of the Authorization
 * sent to it (a receiver may echo the credential it refused) and of anything token-shaped: they
 * reach the audit log, the receivers view and the console.
 */
function withoutCredential(o: PushOutcome, authorization: string | undefined): PushOutcome {
  const secrets = knownSecrets({ receivers: [{ authorizationValue: authorization }] });
  const out = { ...o } as Record<string, unknown>;
  for (const k of ['err', 'description', 'message']) if (typeof out[k] === 'string') out[k] = scrubAll(out[k], secrets);
  return out as PushOutcome;
}

/**
 * Parses Retry-After (delta-seconds or an HTTP date) into a delay in ms from `now`;
 * undefined when absent or unparseable. Dates in the past give 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Keep-alive agents shared by every push (connections to a receiver are reused). */
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };
/** Separate pools for pinned (self-registered) endpoints: never a socket opened for a configured receiver. */
const pinnedAgents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };

/** Reads at most {@link MAX_ERROR_BODY} bytes of an error answer and picks `err` / `description`. */
function readErrorBody(res: IncomingMessage): Promise<{ err?: string; description?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      res.removeAllListeners('data');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY)) as unknown;
        if (!body || typeof body !== 'object') return resolve({});
        const { err, description } = body as Record<string, unknown>;
        resolve({
          ...(typeof err === 'string' ? { err: remoteText(err, 64) } : {}),
          ...(typeof description === 'string' ? { description: remoteText(description) } : {}),
        });
      } catch {
        resolve({});
      }
    };
    res.on('data', (c: Buffer) => {
      if (size >= MAX_ERROR_BODY) return;
      chunks.push(c);
      size += c.length;
      if (size >= MAX_ERROR_BODY) {
        done();
        res.destroy();
      }
    });
    res.once('end', done);
    res.once('error', done);
    res.once('close', done); // cut off (the push's timeout): what arrived is all there is
  });
}

/**
 * Reads and drops a body (so the connection is reused), closing the connection instead once it
 * passes {@link MAX_DISCARDED_BODY} bytes or has not ended within `timeoutMs`.
 */
function discard(res: IncomingMessage, timeoutMs: number): void {
  let size = 0;
  const timer = setTimeout(() => res.destroy(), timeoutMs);
  timer.unref();
  res.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_DISCARDED_BODY) res.destroy();
  });
  res.once('close', () => clearTimeout(timer));
  res.once('error', () => clearTimeout(timer));
  res.resume();
}

/**
 * Classifies a receiver's HTTP answer (the body is read only for errors; any other body is
 * dropped, bounded in size and in time by `timeoutMs`).
 */
export async function classifyResponse(res: IncomingMessage, now: number, timeoutMs = 10_000): Promise<PushOutcome> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    discard(res, timeoutMs);
    return { kind: 'delivered', status };
  }
  const header = res.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, now);
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    discard(res, timeoutMs);
    return { kind: 'rate_limited', status, ...after };
  }
  if (status >= 500 || status === 408) {
    discard(res, timeoutMs);
    return { kind: 'retryable', status, reason: 'http', message: `HTTP ${status}`, ...(status >= 500 ? after : {}) };
  }
  const { err, description } = await readErrorBody(res);
  // What the receiver said, and nothing it did not: no code is made up for a body without one.
  const said = { ...(err !== undefined ? { err } : {}), ...(description !== undefined ? { description } : {}) };
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, ...said };
  if (status === 400 && err === 'invalid_key') return { kind: 'invalid_key', status, ...said, err };
  return { kind: 'permanent', status, ...said };
}

/**
 * POSTs one SET (RFC 8935) with a timeout covering the whole exchange; redirects are not
 * followed (a 3xx is permanent). node:http with keep-alive agents: a fraction of fetch's cost
 * per request, which matters at thousands of SETs a second.
 */
export function pushSet(req: PushRequest): Promise<PushOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let abort: (() => void) | undefined;
    // The status line has arrived: the answer is the receiver's, even if its body is cut off.
    let answered = false;
    let late: NodeJS.Timeout | undefined;
    const finish = (o: PushOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(late);
      resolve(withoutCredential(o, req.authorization));
    };
    const timedOut = (): void => finish({ kind: 'retryable', reason: 'timeout', message: `no answer within ${req.timeoutMs} ms` });
    const timer = setTimeout(() => {
      if (answered && abort) {
        // An error answer whose body is still arriving: cut it off and classify it by its status
        // and what was read (a 400 stays permanent, RFC 8935 §2.3), not as no answer at all.
        late = setTimeout(timedOut, 1000);
        return abort();
      }
      timedOut();
      abort?.();
    }, req.timeoutMs);
    target(req).then(
      (t) => {
        if (settled) return;
        if ('kind' in t) return finish(t);
        try {
          abort = send(req, t, finish, () => (answered = true));
        } catch (err) {
          // A request node refuses to build (a header value it cannot carry): never sendable.
          const code = (err as { code?: string }).code ?? 'request_refused';
          finish({ kind: 'permanent', status: 0, err: 'invalid_request', description: `request not sent: ${code}` });
        }
      },
      (err: unknown) => finish(networkOutcome(err)),
    );
  });
}

type Target = { url: URL; pinned?: PinnedEndpoint };

/** The URL to POST to and, under a policy, the checked address (or why there is none). */
async function target(req: PushRequest): Promise<Target | PushOutcome> {
  if (!req.policy) {
    try {
      return { url: new URL(req.endpoint) };
    } catch {
      return { kind: 'retryable', reason: 'network', message: 'invalid endpoint URL' };
    }
  }
  try {
    const pinned = await req.policy.pin(req.endpoint);
    return { url: pinned.url, pinned };
  } catch (err) {
    if (!isRiskstreamError(err, 'ENDPOINT_REFUSED')) throw err;
    const reason = String(err.details?.reason ?? 'address');
    // A name that does not resolve now may resolve later; a refused address stays refused.
    if (reason === 'unresolvable') return { kind: 'retryable', reason: 'network', message: 'endpoint host does not resolve' };
    return { kind: 'refused', reason, message: err.message };
  }
}

function networkOutcome(err: unknown): PushOutcome {
  const e = err as { code?: string; message?: string };
  return { kind: 'retryable', reason: 'network', message: remoteText(e.code ?? e.message ?? 'network error') };
}

/** Sends the POST; returns a function that aborts it. */
function send(req: PushRequest, t: Target, finish: (o: PushOutcome) => void, onAnswer: () => void): () => void {
  const https = t.url.protocol === 'https:';
  const body = Buffer.from(req.set, 'utf8');
  const headers: Record<string, string | number> = {
    'content-type': `application/${SET_TYP}`,
    accept: 'application/json',
    'content-length': body.length,
  };
  if (req.authorization) headers.authorization = req.authorization;
  const pool = t.pinned ? pinnedAgents : agents;
  const options = { method: 'POST', headers, agent: https ? pool.https : pool.http, ...(t.pinned ? { lookup: pinnedLookup(t.pinned) } : {}) };
  const r = (https ? httpsRequest : httpRequest)(t.url, options, (res) => {
    onAnswer();
    classifyResponse(res, (req.now ?? Date.now)(), req.timeoutMs).then(finish, (err: unknown) => finish(networkOutcome(err)));
  });
  r.on('error', (err) => finish(networkOutcome(err)));
  r.end(body);
  return () => r.destroy();
}
