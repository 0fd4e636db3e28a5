/**
 * Response shapes of the console's JSON routes. Types only (no values, no imports from outside
 * src/api/views/): the routes annotate their answers with them and `web/` imports them with
 * `import type`, so a changed response breaks `npm run build:console` rather than the page.
 */

/** A risk level as the API spells it. */
export type ViewLevel = 'low' | 'medium' | 'high';

/** One row of `GET /v1/console/users`. */
export interface TableUser {
  user: string;
  level: ViewLevel;
  version: number;
  changed_at: string | null;
  behaviors: Array<{ id: string; level: ViewLevel; summary: string; last_at: string; expires_at: string | null; hits: number }>;
}

/** `GET /v1/console/users`: users by level (high first), a cursor, level counts. */
export interface UsersTable {
  users: TableUser[];
  next_cursor: string | null;
  counts: Record<ViewLevel | 'total', number>;
  scanned: number;
}

/** A receiver's SET delivery health over the last 24 h and its queued jobs. */
export interface ReceiverHealth {
  last_success: Record<string, unknown> | null;
  last_failure: Record<string, unknown> | null;
  last_attempt: Record<string, unknown> | null;
  delivered: number;
  failed: number;
  retries: number;
  superseded: number;
  queue: { waiting: number; delayed: number; active: number; total: number };
}

/** A receiver without secrets (`authorization` says only whether one is set). */
export interface Receiver {
  name: string;
  source: 'config' | 'ssf-stream';
  /**
   * Most sends in flight to it at once, per worker: a configured receiver's `concurrency` (default
   * half of `delivery.concurrency`, at least 1), a stream's `ssf.per_stream_concurrency`.
   */
  concurrency: number;
  kind: string;
  enabled: boolean;
  endpoint: string;
  audience: string;
  subject_format: string;
  events: string[];
  alg: string;
  timeout_ms: number;
  rate_limit: number | null;
  authorization: 'set' | 'none';
  health: ReceiverHealth;
}

/** `GET /v1/receivers`. */
export interface ReceiversView {
  receivers: Receiver[];
  /** Receivers seen in recent deliveries but no longer configured. */
  removed: Array<{ name: string; health: ReceiverHealth }>;
  queue: Record<string, number>;
  window: { since: string | null; entries: number; complete: boolean; queue_jobs_scanned: number; queue_truncated: boolean };
}

/** One behavior of `GET /v1/behaviors`. */
export interface Behavior {
  id: string;
  kind: string;
  enabled: boolean;
  risk_level: ViewLevel;
  expires_after_ms: number | null;
  description?: string;
  params: Record<string, unknown>;
}

/** `GET /v1/behaviors`: the behavior configuration in force. */
export interface BehaviorsView {
  files: string[];
  behaviors: Behavior[];
}

/** One SET delivery attempt of `GET /v1/users/{user}/deliveries` (audit `set.*`). */
export interface Delivery {
  id: string;
  time: string | null;
  action: string;
  receiver: string | null;
  event: string | null;
  version?: number;
  session_id?: string;
  jti: string | null;
  attempts: number | null;
  outcome: string;
  status?: number;
  description?: string;
  err?: string;
  message?: string;
  delay_ms?: number;
}

/** `GET /v1/users/{user}/deliveries`: newest first. */
export interface DeliveriesView {
  user: string;
  deliveries: Delivery[];
  scanned: number;
  complete: boolean;
}
