/**
 * RFC 8935 push delivery: POST the compact SET and classify the answer. Never throws for
 * receiver behaviour — every result is a typed {@link PushOutcome}. The Authorization header
 * value is sent, never returned or logged.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isRiskstreamError } from '../errors.js';
import { pinnedLookup, type EndpointPolicy, type PinnedEndpoint } from './endpoint-policy.js';
import { receiverSecrets } from './display-endpoint.js';
import { classifyResponse, remoteText, type PushOutcome } from './push-response.js';
import { SET_TYP } from './set-builder.js';
import { scrubAll } from '../secrets/known-secrets.js';

export { classifyResponse, parseRetryAfter, remoteText, REMOTE_TEXT_MAX, type PushErrorCode, type PushOutcome } from './push-response.js';

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
  /** Aborts the push (the worker shutting down): it ends at once as retryable, its socket destroyed. */
  signal?: AbortSignal;
}

/**
 * `o` with the receiver's own words (`err`, `description`, `message`) cleared of the Authorization
 * sent to it and of the credentials its endpoint URL carries (a receiver may echo the credential it
 * refused, or the URL it was called at) and of anything token-shaped: they reach the audit log,
 * the receivers view and the console.
 */
function withoutCredential(o: PushOutcome, authorization: string | undefined, endpoint: string): PushOutcome {
  const out = { ...o } as Record<string, unknown>;
  let secrets: string[] | undefined; // built only when the outcome holds text (most pushes' do not)
  for (const k of ['err', 'description', 'message'])
    if (typeof out[k] === 'string') out[k] = scrubAll(out[k], (secrets ??= receiverSecrets(authorization, endpoint)));
  return out as PushOutcome;
}

/** Keep-alive agents shared by every push (connections to a receiver are reused). */
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };
/** The pinned address a request's options carry ({@link send}), so its pool is that address's. */
type PinnedOptions = { pinnedAddress?: string };

/** Node's pool name `name` (host and port) made per pinned address too: both pinned agents' `getName`. */
const pinnedName = (name: string, options: unknown): string => `${name}@${(options as PinnedOptions | undefined)?.pinnedAddress ?? ''}`;

/**
 * Pools for pinned (self-registered) endpoints: never a socket opened for a configured receiver,
 * and one pool per host and pinned address. Node names a pool by host and port only, so a name that
 * now resolves elsewhere (or whose old address the policy no longer allows) reused the kept-alive
 * socket to the address it had before, not the one just checked.
 */
class PinnedHttpAgent extends HttpAgent {
  override getName(options?: Parameters<HttpAgent['getName']>[0]): string {
    return pinnedName(super.getName(options), options);
  }
}
class PinnedHttpsAgent extends HttpsAgent {
  override getName(options?: Parameters<HttpsAgent['getName']>[0]): string {
    return pinnedName(super.getName(options), options);
  }
}
const pinnedAgents = { http: new PinnedHttpAgent({ keepAlive: true, maxSockets: 256 }), https: new PinnedHttpsAgent({ keepAlive: true, maxSockets: 256 }) };

/**
 * Most interim (1xx) answers taken before the final one. Each is a whole new message to node's
 * parser (its header limit starts over), so a receiver sending `100 Continue` without end would
 * keep a core busy parsing them until the push's timeout: past this, the connection is closed.
 */
export const MAX_INTERIM_RESPONSES = 8;

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
    // The request went out in full: a failure without an answer leaves the SET perhaps with the receiver.
    let sent = false;
    const finish = (o: PushOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(late);
      req.signal?.removeEventListener('abort', aborted);
      const unanswered = o.kind === 'retryable' && o.reason !== 'http' && sent;
      resolve(withoutCredential(unanswered ? { ...o, sent: true } : o, req.authorization, req.endpoint));
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
    const aborted = (): void => {
      finish({ kind: 'retryable', reason: 'network', message: 'not answered before the worker shut down' });
      abort?.();
    };
    if (req.signal?.aborted) aborted();
    else req.signal?.addEventListener('abort', aborted, { once: true });
    target(req).then(
      (t) => {
        if (settled) return;
        if ('kind' in t) return finish(t);
        try {
          abort = send(
            req,
            t,
            finish,
            () => (answered = true),
            () => (sent = true),
          );
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

/** Sends the POST (`onSent` once it went out in full); returns a function that aborts it. */
function send(req: PushRequest, t: Target, finish: (o: PushOutcome) => void, onAnswer: () => void, onSent: () => void): () => void {
  const https = t.url.protocol === 'https:';
  const body = Buffer.from(req.set, 'utf8');
  const headers: Record<string, string | number> = {
    'content-type': `application/${SET_TYP}`,
    accept: 'application/json',
    'content-length': body.length,
  };
  if (req.authorization) headers.authorization = req.authorization;
  const pool = t.pinned ? pinnedAgents : agents;
  const options = {
    method: 'POST',
    headers,
    agent: https ? pool.https : pool.http,
    ...(t.pinned ? { lookup: pinnedLookup(t.pinned), pinnedAddress: t.pinned.address } : {}),
  };
  const r = (https ? httpsRequest : httpRequest)(t.url, options, (res) => {
    onAnswer();
    classifyResponse(res, (req.now ?? Date.now)(), req.timeoutMs).then(finish, (err: unknown) => finish(networkOutcome(err)));
  });
  r.on('error', (err) => finish(networkOutcome(err)));
  let interim = 0;
  r.on('information', () => {
    if (++interim <= MAX_INTERIM_RESPONSES) return;
    finish({ kind: 'retryable', reason: 'network', message: `more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses` });
    r.destroy();
  });
  r.once('finish', onSent);
  r.end(body);
  return () => r.destroy();
}
