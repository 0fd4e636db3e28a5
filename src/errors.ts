/**
 * The one error class riskstream throws. `code` is stable and machine-readable;
 * tests and API clients branch on it, never on `message`.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'EVENT_INVALID'
  | 'EVENT_UNDECODABLE'
  | 'KEY_INVALID'
  | 'KEY_NOT_FOUND'
  | 'DELIVERY_PERMANENT'
  | 'DELIVERY_RETRYABLE'
  | 'DELIVERY_RATE_LIMITED'
  | 'DELIVERY_UNAUTHORIZED'
  | 'COMMIT_CONFLICT'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  /** A self-registered stream's endpoint is refused by the egress policy (400; `details.reason`). */
  | 'ENDPOINT_REFUSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'BACKPRESSURE'
  /** `POST /v1/events`: too many bodies in progress and queued in this process (503, `retryAfter`). */
  | 'INGEST_BUSY'
  /** A self-registered SSF stream: the caller already owns `ssf.limits.streams_per_owner` streams. */
  | 'STREAM_LIMIT'
  /** Called more often than allowed (e.g. `/ssf/verify` within `min_verification_interval`); has `retryAfter`. */
  | 'RATE_LIMITED'
  /** An SSF Transmitter-Supplied stream property (`aud`, `events_delivered`, …) given with another value than ours. */
  | 'TRANSMITTER_SUPPLIED'
  | 'SHUTTING_DOWN'
  | 'SHUTDOWN_TIMEOUT'
  | 'INTERNAL';

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
}

/** True when `err` is a RiskstreamError, optionally with the given code. */
export function isRiskstreamError(err: unknown, code?: ErrorCode): err is RiskstreamError {
  return err instanceof RiskstreamError && (code === undefined || err.code === code);
}
