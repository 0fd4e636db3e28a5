/**
 * Every error code riskstream throws, with the HTTP status the API answers it with (fastify's
 * pattern: the code carries its status). `code` is stable and machine-readable; tests and API
 * clients branch on it, never on `message`. The API's `error` field is the code in lower case.
 */
export const ERROR_CODES = {
  /** Configuration (or a config-shaped request body) that fails validation. */
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 500,
  KEY_INVALID: 500,
  KEY_NOT_FOUND: 500,
  DELIVERY_RETRYABLE: 500,
  DELIVERY_RATE_LIMITED: 500,
  COMMIT_CONFLICT: 500,
  /** A partition's commit refused whole (nothing written) while a Redis Cluster slot of its keys is being migrated: redone once it is served. */
  SLOT_MIGRATING: 503,
  NOT_FOUND: 404,
  /** A route that exists, asked with a method it does not answer (the `Allow` header lists those it does). */
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
  /** A valid token without the route's scope. */
  FORBIDDEN: 403,
  BAD_REQUEST: 400,
  /** A self-registered stream's endpoint is refused by the egress policy (`details.reason`). */
  ENDPOINT_REFUSED: 400,
  PAYLOAD_TOO_LARGE: 413,
  /** A body of a content type the route does not read (the API's own HTTP layer). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** An `Accept` the route cannot answer (the API's own HTTP layer). */
  NOT_ACCEPTABLE: 406,
  /** A request line and headers longer than node's HTTP parser takes. */
  HEADER_TOO_LARGE: 431,
  /** A request that took too long to arrive (node's HTTP parser). */
  REQUEST_TIMEOUT: 408,
  /** `POST /v1/events` while the consumer lag exceeds `streams.max_lag` (`retryAfter`). */
  BACKPRESSURE: 429,
  /** `POST /v1/events`: too many bodies in progress and queued in this process (`retryAfter`). */
  INGEST_BUSY: 429,
  /**
   * A self-registered SSF stream: the caller already owns `ssf.limits.streams_per_owner` streams. 403
   * (SSF 1.0 §8.1.1.1: "the Event Receiver is not allowed to create a stream"): a quota, which
   * retrying does not lift — not a 429, which a receiver retries.
   */
  STREAM_LIMIT: 403,
  /**
   * A client address refused for a while after too many unknown bearer tokens (`http.auth_failures`):
   * answered before its token is checked, with `Retry-After`.
   */
  AUTH_THROTTLED: 429,
  /** Called more often than allowed (e.g. `/ssf/verify` within `min_verification_interval`); has `retryAfter`. */
  RATE_LIMITED: 429,
  /** An SSF Transmitter-Supplied stream property (`aud`, `events_delivered`, …) given with another value than ours. */
  TRANSMITTER_SUPPLIED: 400,
  /**
   * The client closed the connection before its answer (nginx's 499: never sent, as nobody reads
   * it); what the request had not done yet is not done.
   */
  CLIENT_CLOSED: 499,
  /** A dependency (Redis, a service of the worker) is not there. */
  UNAVAILABLE: 503,
  SHUTDOWN_TIMEOUT: 500,
  /** A list bridge move that failed (`details.list`, `details.stream`, `details.moved`: items moved before it failed). */
  BRIDGE_FAILED: 500,
  /** An engine worker's claimed identity (`<host>-<n>`) was taken by another process (this one was paused past its ttl). */
  WORKER_ID_LOST: 500,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

/** A stable error code (a key of {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Base error: a stable `code`, a human message, optional structured details (never secrets). */
export class RiskstreamError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RiskstreamError';
    this.code = code;
    this.details = details;
  }

  /** The HTTP status the API answers this error with (from {@link ERROR_CODES}). */
  get statusCode(): number {
    return ERROR_CODES[this.code];
  }
}

/** True when `err` is a RiskstreamError, optionally with the given code. */
export function isRiskstreamError(err: unknown, code?: ErrorCode): err is RiskstreamError {
  return err instanceof RiskstreamError && (code === undefined || err.code === code);
}

/** A stable code for any error (never its message: messages may quote input). */
export function errorCode(err: unknown): string {
  if (isRiskstreamError(err)) return err.code;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'ReplyError' ? 'REDIS_REPLY' : 'INTERNAL';
}
