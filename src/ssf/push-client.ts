/**
 * RFC 8935 push delivery: POST the compact SET and classify the answer. Never throws for
 * receiver behaviour — every result is a typed {@link PushOutcome}. The Authorization header
 * value is sent, never returned or logged.
 */
import { SET_TYP } from './set-builder.js';

/** RFC 8935 §2.3 error codes (others are passed through as they come). */
export type PushErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed'
  | 'access_denied'
  | (string & {});

/** What a push attempt came to. */
export type PushOutcome =
  /** Any 2xx. */
  | { kind: 'delivered'; status: number }
  /** 400 `{err, description}` (or another 4xx/3xx): the SET will never be accepted. */
  | { kind: 'permanent'; status: number; err: PushErrorCode; description?: string }
  /** 400 `invalid_key`: may succeed once the receiver refreshes our JWKS. */
  | { kind: 'invalid_key'; status: 400; err: 'invalid_key'; description?: string }
  /** 401 / 403: our Authorization is wrong. */
  | { kind: 'unauthorized'; status: number; description?: string }
  /** 429; `retryAfterMs` from Retry-After when present. */
  | { kind: 'rate_limited'; status: 429; retryAfterMs?: number }
  /** 5xx, 408, timeout or network error. */
  | { kind: 'retryable'; status?: number; reason: 'http' | 'timeout' | 'network'; message: string };

/** One push. */
export interface PushRequest {
  endpoint: string;
  set: string;
  /** Authorization header value (secret). */
  authorization?: string;
  timeoutMs: number;
  /** Clock for Retry-After dates (epoch ms); defaults to Date.now(). */
  now?: () => number;
}

const MAX_ERROR_BODY = 16 * 1024;

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

async function readErrorBody(res: Response): Promise<{ err?: string; description?: string }> {
  try {
    const text = (await res.text()).slice(0, MAX_ERROR_BODY);
    const body = JSON.parse(text) as unknown;
    if (!body || typeof body !== 'object') return {};
    const { err, description } = body as Record<string, unknown>;
    return {
      ...(typeof err === 'string' ? { err } : {}),
      ...(typeof description === 'string' ? { description: description.slice(0, 500) } : {}),
    };
  } catch {
    return {};
  }
}

/** Classifies a receiver's HTTP answer (the body is consumed only for errors). */
export async function classifyResponse(res: Response, now: number): Promise<PushOutcome> {
  const status = res.status;
  if (status >= 200 && status < 300) {
    await res.body?.cancel().catch(() => undefined);
    return { kind: 'delivered', status };
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now);
    await res.body?.cancel().catch(() => undefined);
    return retryAfterMs === undefined ? { kind: 'rate_limited', status } : { kind: 'rate_limited', status, retryAfterMs };
  }
  if (status >= 500 || status === 408) {
    await res.body?.cancel().catch(() => undefined);
    return { kind: 'retryable', status, reason: 'http', message: `HTTP ${status}` };
  }
  const { err, description } = await readErrorBody(res);
  const desc = description !== undefined ? { description } : {};
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, ...desc };
  if (status === 400 && err === 'invalid_key') return { kind: 'invalid_key', status, err, ...desc };
  return { kind: 'permanent', status, err: err ?? (status === 400 ? 'invalid_request' : `http_${status}`), ...desc };
}

/** POSTs one SET (RFC 8935) with a timeout; redirects are not followed (a 3xx is permanent). */
export async function pushSet(req: PushRequest): Promise<PushOutcome> {
  const headers: Record<string, string> = {
    'content-type': `application/${SET_TYP}`,
    accept: 'application/json',
  };
  if (req.authorization) headers.authorization = req.authorization;
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await fetch(req.endpoint, { method: 'POST', headers, body: req.set, redirect: 'manual', signal });
    return await classifyResponse(res, (req.now ?? Date.now)());
  } catch (err) {
    if (signal.aborted) return { kind: 'retryable', reason: 'timeout', message: `no answer within ${req.timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'retryable', reason: 'network', message: cause?.code ?? cause?.message ?? (err as Error).message ?? 'network error' };
  }
}
