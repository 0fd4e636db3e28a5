/** The admin API client: the bearer token lives in sessionStorage (entered once per tab). */

const TOKEN_KEY = 'riskstream.token';

export type Level = 'low' | 'medium' | 'high';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode: the token lives only in memory for this page */
  }
}

type Listener = (e: ApiError) => void;
const unauthorized: Listener[] = [];

/** Called when the API refuses the token (401): the app asks for it again. */
export function onUnauthorized(l: Listener): void {
  unauthorized.push(l);
}

/**
 * Encodes one path segment (user ids, session ids). An id `.` or `..` cannot be one: a browser
 * resolves such a segment (encoded or not) before the request is sent, which would address another
 * resource (`/v1/sessions/.` → the list). Refused here with a clear error rather than misread.
 */
export const seg = (v: string): string => {
  if (v === '.' || v === '..')
    throw new ApiError(
      0,
      'not_addressable',
      `"${v}" cannot be used in a browser's URL path: read it with the API directly (curl …/${v === '.' ? '%2E' : '%2E%2E'}/…)`,
    );
  return encodeURIComponent(v);
};

/** Whether the stream entry id `a` (`ms-seq`, as an audit entry's `id`) is newer than `b`. */
export function entryIdNewer(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? am > bm : as > bs;
}

/** Builds a query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * The API lives beside the console: `/console/` → `/v1/…`, resolved relative to the page so a
 * reverse proxy may mount the worker under a path prefix (`/riskstream/console/` → `/riskstream/v1/…`).
 */
export function apiUrl(path: string): string {
  return new URL(`..${path}`, location.href.split('#')[0]).toString();
}

/** Calls the admin API (same origin); throws ApiError with the server's `{error, message}`. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? getToken();
  // A character a header cannot carry (a zero-width space or a smart quote pasted from a chat or a
  // document) makes fetch throw, which read as "the worker cannot be reached".
  if (token && /[^\t\x20-\x7e\x80-\xff]/.test(token))
    throw new ApiError(
      0,
      'invalid_token_text',
      'The token holds a character no bearer token has (a zero-width space, a line break, typographic quotes…): paste it again as plain text.',
    );
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', 'The worker cannot be reached.');
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const d = (data ?? {}) as { error?: string; message?: string };
    const err = new ApiError(res.status, d.error ?? `http_${res.status}`, d.message ?? `HTTP ${res.status}`);
    if (res.status === 401 && !init.token) for (const l of unauthorized) l(err);
    throw err;
  }
  return data as T;
}

/* ---- shapes of the API's answers: the console routes' own types (src/api/views/), the rest (CONTRACT.md §5) here ---- */

export type {
  Behavior,
  BehaviorsView,
  DeliveriesView,
  Delivery,
  Receiver,
  ReceiverHealth,
  ReceiversView,
  TableUser,
  UsersTable,
} from '../../src/api/views/console.js';
export type { AuditEntry, AuditPage, UserRisk } from '../../src/api/views/admin.js';

export interface RiskChangeEvent {
  id: string;
  kind: 'change';
  version: number;
  previous: Level;
  current: Level;
  behaviors: string[];
  reason: string;
  initiatingEntity: string;
  time: number;
  /** Event time of what caused the change (the triggering event; for an expiry, when it stopped counting). */
  occurred_at?: string | null;
  /** When riskstream changed the level (the SET's event_timestamp). */
  processed_at?: string | null;
}

export interface RiskHitEvent {
  id: string;
  kind: 'hit';
  behavior: string;
  level: Level;
  time: number;
  /** Event time: when the behavior happened. */
  occurred_at?: string | null;
  /** When riskstream recorded the hit. */
  processed_at?: string | null;
  /** Event time + the behavior's expires_after (null: never). */
  expires_at?: string | null;
  /** The hit had already expired when it arrived (a backfill): it raised no level. */
  expired_on_arrival?: boolean;
  summary: string;
  evidence: Record<string, unknown>;
}

export type RiskEvent = RiskChangeEvent | RiskHitEvent;

export interface Session {
  session_id: string;
  user: string;
  idp?: string;
  claims: Record<string, unknown>;
  device?: Record<string, unknown>;
  network?: Record<string, unknown>;
  ip?: string;
  geo?: Record<string, unknown>;
  login_at: number;
  expires_at: number;
  event_id?: string;
  attributes?: Record<string, unknown>;
  /** Event time of the last refresh that extended the session. */
  refreshed_at?: number;
  /** The session's start is a refresh's (no login seen for it). */
  from_refresh?: true;
  /** What sessions.max_identity_bytes cut (each now a `{truncated, bytes, sha256, items|keys}` marker), largest first. */
  truncated?: string[];
}

export interface Device {
  id: string;
  posture?: Record<string, unknown>;
  last_seen: number;
  ip?: string;
  session_id: string;
}
