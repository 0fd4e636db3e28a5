/**
 * A receiver's answer to an RFC 8935 push, classified: the typed {@link PushOutcome}s, Retry-After
 * parsing, and the bounded reading (error bodies) or dropping (any other body) of what it sent.
 */
import type { IncomingMessage } from 'node:http';
import { DISPLAY_CONTROLS } from '../text.js';

/** RFC 8935 §2.3 error codes (others are passed through as they come). */
export type PushErrorCode =
  'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied' | (string & {});

/** What a push attempt came to. */
export type PushOutcome =
  /** Any 2xx. */
  | { kind: 'delivered'; status: number }
  /** 400 `{err, description}` (or another 4xx/3xx): the SET will never be accepted. `err` only as the receiver sent it. */
  | { kind: 'permanent'; status: number; err?: PushErrorCode; description?: string }
  /**
   * 400 `invalid_key`, or `authentication_failed` saying the signature could not be verified (Okta's
   * answer while it holds an older copy of our JWKS): may succeed once the receiver refreshes it.
   */
  | { kind: 'invalid_key'; status: 400; err: 'invalid_key' | 'authentication_failed'; description?: string }
  /** 401 / 403: our Authorization is wrong (`err` as the receiver sent it, if it did). */
  | { kind: 'unauthorized'; status: number; err?: PushErrorCode; description?: string }
  /** 429; `retryAfterMs` from Retry-After when present, else from Okta's X-Rate-Limit-Reset. */
  | { kind: 'rate_limited'; status: 429; retryAfterMs?: number }
  /**
   * 5xx, 408, timeout or network error; `retryAfterMs` from a 5xx's (a 503's) or 408's Retry-After when present;
   * `sent` on a timeout or network error after the request went out in full: the receiver may hold
   * the SET, and still be applying it.
   */
  | { kind: 'retryable'; status?: number; reason: 'http' | 'timeout' | 'network'; message: string; retryAfterMs?: number; sent?: true }
  /** The endpoint policy refused the address at send time (nothing was sent). */
  | { kind: 'refused'; reason: string; message: string };

const MAX_ERROR_BODY = 16 * 1024;

/** An `authentication_failed` description that blames the signature or its key (Okta: "Could not verify message signature…"). */
const SIGNATURE_UNVERIFIED = /\bsignature\b|\bkid\b|\bsigning key\b|\bjwks\b/i;

/**
 * Most of a body that is read only to be dropped (a 2xx, 429 or 5xx answer): past it, or past
 * the push's timeout, the connection is closed instead (a receiver streaming its answer without
 * end would otherwise hold a socket, and the CPU reading it, for good).
 */
const MAX_DISCARDED_BODY = 64 * 1024;

/** How much of a receiver's error text reaches the audit log and console. */
export const REMOTE_TEXT_MAX = 256;

// What src/cli/terminal-text.ts escapes too (a run of them becomes one space).
const CONTROL = new RegExp(`[${DISPLAY_CONTROLS}]+`, 'g');

/** A receiver-supplied string made safe to record: control characters replaced, at most `max` characters. */
export function remoteText(value: string, max = REMOTE_TEXT_MAX): string {
  const clean = value.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** RFC 9110's obsolete asctime-date, `Sun Nov  6 08:49:37 1994` (GMT, no zone written). */
const ASCTIME = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

/**
 * Parses Retry-After (delta-seconds or an HTTP date) into a delay in ms from `now`;
 * undefined when absent or unparseable. Dates in the past give 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date is always GMT (RFC 9110 §5.6.7); the asctime form writes no zone, and Date.parse
  // would read it as the process's local time.
  const at = Date.parse(ASCTIME.test(v) ? `${v} GMT` : v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Parses Okta's `X-Rate-Limit-Reset` (when the rate-limit window resets, in UTC epoch seconds), which
 * Okta sends on a 429 instead of Retry-After, into a delay in ms from `now`; undefined when absent or
 * not epoch seconds. A time past gives 0.
 */
export function parseRateLimitReset(value: string | null | undefined, now: number): number | undefined {
  const v = value?.trim();
  if (!v || !/^\d{9,11}$/.test(v)) return undefined;
  return Math.max(0, Number(v) * 1000 - now);
}

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
  const reset = res.headers['x-rate-limit-reset'];
  const retryAfterMs =
    parseRetryAfter(Array.isArray(header) ? header[0] : header, now) ??
    (status === 429 ? parseRateLimitReset(Array.isArray(reset) ? reset[0] : reset, now) : undefined);
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    discard(res, timeoutMs);
    return { kind: 'rate_limited', status, ...after };
  }
  if (status >= 500 || status === 408) {
    discard(res, timeoutMs);
    return { kind: 'retryable', status, reason: 'http', message: `HTTP ${status}`, ...after };
  }
  const { err, description } = await readErrorBody(res);
  // What the receiver said, and nothing it did not: no code is made up for a body without one.
  const said = { ...(err !== undefined ? { err } : {}), ...(description !== undefined ? { description } : {}) };
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, ...said };
  if (status === 400 && (err === 'invalid_key' || (err === 'authentication_failed' && SIGNATURE_UNVERIFIED.test(description ?? ''))))
    return { kind: 'invalid_key', status, ...said, err };
  return { kind: 'permanent', status, ...said };
}
