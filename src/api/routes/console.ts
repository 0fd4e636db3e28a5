/**
 * The admin console: its prebuilt static files at `/console/` (public: the page holds no data)
 * and the read-only JSON routes it needs beyond the rest of the admin API (admin scope):
 *
 * - `GET /v1/console/users?level=&behavior=&q=&cursor=&limit=` — users by level (high first) with
 *   their active behaviors, filtered by level, behavior id and a user substring; level counts.
 * - `GET /v1/receivers` — configured (and SSF-stream) receivers without secrets, with delivery
 *   health from the audit log and per-receiver queue depth from the delivery queue.
 * - `GET /v1/behaviors` — the behavior configuration in force.
 * - `GET /v1/users/{user}/deliveries?limit=&since=` — a user's SET delivery attempts (audit `set.*`),
 *   newest first, back to `since` (epoch ms or ISO-8601) when given.
 *
 * The console is built by `npm run build:console` (web/ → console-dist/, committed), so the
 * worker serves it without a build step at run time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditLog, type StoredAuditEntry } from '../../audit/audit-log.js';
import type { ResolvedReceiver } from '../../config/load.js';
import { RiskstreamError } from '../../errors.js';
import { Invalid, toUser } from '../../ingest/event-schema.js';
import { isoTime } from '../../detect/format.js';
import { viewOf } from '../../risk/service.js';
import type { UserState } from '../../risk/state.js';
import { levelRange } from '../../risk/store.js';
import { RISK_LEVELS, type RiskLevel } from '../../types.js';
import { decodeCursor, encodeCursor, zrevAfter, type CursorPos } from '../../sessions/cursor.js';
import type { ApiContext } from '../context.js';
import { sendError, type RouteModule } from '../server.js';
import { packageRoot } from '../../package-root.js';
import { displayEndpoint } from '../../ssf/display-endpoint.js';

/* ------------------------------------------------------------------ static files */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** The page may only load its own files and call its own origin. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

/** Default location of the built console. */
export const CONSOLE_DIST = join(packageRoot(), 'console-dist');

/** Reads every file of the built console into memory (a few hundred KB), gzipping text files. */
export function loadConsoleFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      const rel = relative(dir, full).split(sep).join('/');
      const type = TYPES[extname(name).toLowerCase()];
      if (!type || rel.endsWith('.map')) continue;
      const body = readFileSync(full);
      const compressible = /^text\/|json|svg/.test(type) && body.length > 1024;
      files.set(rel, {
        body,
        ...(compressible ? { gzip: gzipSync(body, { level: 9 }) } : {}),
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: rel.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return files;
}

function sendStatic(req: FastifyRequest, reply: FastifyReply, f: StaticFile): FastifyReply {
  reply
    .header('Content-Type', f.type)
    .header('Cache-Control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('ETag', f.etag)
    .header('Vary', 'Accept-Encoding')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer');
  if (f.type.startsWith('text/html')) reply.header('Content-Security-Policy', CSP).header('X-Frame-Options', 'DENY');
  if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
  if (f.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(f.gzip);
  return reply.send(f.body);
}

/* ------------------------------------------------------------------ helpers */

function intParam(v: string | undefined, name: string, def: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RiskstreamError('BAD_REQUEST', `${name} must be an integer from 1 to ${max}`);
  return n;
}

function userOf(raw: string): string {
  const user = toUser(raw, 'user');
  if (user instanceof Invalid) throw new RiskstreamError('BAD_REQUEST', 'user is required');
  return user;
}

/** ISO-8601 or null (also for a time out of `Date`'s range: an absurd stored time never fails a view). */
const iso = (ms: unknown): string | null => (typeof ms === 'number' && ms > 0 ? isoTime(ms) : null);

/** Re-exported: the one display form of receiver URLs (src/ssf/display-endpoint.ts). */
export { displayEndpoint };

/** Reads audit entries newest first, in pages, until `stop` says so or `max` were read. */
async function scanAudit(
  ctx: ApiContext,
  opts: { max: number; since?: number; visit: (e: StoredAuditEntry) => boolean | void },
): Promise<{ scanned: number; complete: boolean; oldest: number | null }> {
  const stream = ctx.audit.stream;
  let end = '+';
  const start = opts.since ? `${opts.since}-0` : '-';
  let scanned = 0;
  let oldest: number | null = null;
  while (scanned < opts.max) {
    const count = Math.min(1000, opts.max - scanned);
    const rows = (await ctx.redis.xrevrange(stream, end, start, 'COUNT', count)) as Array<[string, string[]]>;
    for (const [id, f] of rows) {
      scanned++;
      const e = AuditLog.parse(id, f);
      oldest = e.time || Number(id.split('-')[0]);
      if (opts.visit(e) === true) return { scanned, complete: false, oldest };
    }
    if (rows.length < count) return { scanned, complete: true, oldest };
    end = `(${rows[rows.length - 1]![0]}`;
  }
  return { scanned, complete: false, oldest };
}

/* ------------------------------------------------------------------ users table */

interface TableRow {
  user: string;
  level: RiskLevel;
  version: number;
  changed_at: string | null;
  behaviors: Array<{ id: string; level: RiskLevel; summary: string; last_at: string; expires_at: string | null; hits: number }>;
}

const CHUNK = 200;
const MAX_SCAN = 5000;

async function usersTable(
  ctx: ApiContext,
  q: { level?: string; behavior?: string; q?: string; cursor?: string; limit?: string },
): Promise<Record<string, unknown>> {
  const limit = intParam(q.limit, 'limit', 50, 500);
  let level: RiskLevel | undefined;
  if (q.level) {
    if (!RISK_LEVELS.includes(q.level as RiskLevel)) throw new RiskstreamError('BAD_REQUEST', `level must be one of ${RISK_LEVELS.join(', ')}`);
    level = q.level as RiskLevel;
  }
  // The cursor is the last scanned row's position (score, user), not an offset: users whose level
  // changes between two pages never make the next page repeat or skip others.
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const needle = (q.q ?? '').trim().toLowerCase();
  const behavior = (q.behavior ?? '').trim();
  const key = ctx.keys.usersByLevel;
  const range = level ? levelRange(level) : { min: '-inf' };

  const counts = ctx.redis.pipeline();
  for (const l of RISK_LEVELS) {
    const r = levelRange(l);
    counts.zcount(key, r.min, `(${r.top}`);
  }
  const countRes = (await counts.exec()) ?? [];
  const levelCounts = Object.fromEntries(RISK_LEVELS.map((l, i) => [l, Number(countRes[i]?.[1] ?? 0)])) as Record<RiskLevel, number>;

  const users: TableRow[] = [];
  let last: CursorPos | undefined;
  let scanned = 0;
  // Whether rows remain after the last one scanned (a further chunk, or the rest of this one).
  let more = false;
  for await (const cands of zrevAfter(ctx.redis, key, range, after, CHUNK)) {
    if (users.length >= limit || scanned >= MAX_SCAN) {
      more = true;
      break;
    }
    const p = ctx.redis.pipeline();
    for (const c of cands) p.hget(ctx.keys.userState(c.member), 'data');
    const res = (await p.exec()) ?? [];
    let i = 0;
    for (; i < cands.length && users.length < limit; i++) {
      scanned++;
      last = cands[i]!;
      const user = last.member;
      if (needle && !user.toLowerCase().includes(needle)) continue;
      const data = res[i]?.[1];
      if (typeof data !== 'string') continue;
      let view;
      try {
        view = viewOf(JSON.parse(data) as UserState);
      } catch {
        continue;
      }
      if (behavior && !view.behaviors.some((b) => b.id === behavior)) continue;
      users.push({
        user: view.user,
        level: view.level,
        version: view.version,
        changed_at: view.changed_at,
        behaviors: view.behaviors.map((b) => ({ id: b.id, level: b.level, summary: b.summary, last_at: b.last_at, expires_at: b.expires_at, hits: b.hits })),
      });
    }
    if (i < cands.length) {
      more = true;
      break;
    }
  }
  return {
    users,
    next_cursor: more && last ? encodeCursor(last) : null,
    counts: { ...levelCounts, total: levelCounts.low + levelCounts.medium + levelCounts.high },
    scanned,
  };
}

/* ------------------------------------------------------------------ receivers */

/** What the console needs of the SSF runtime (see src/runtime/ssf.ts). */
interface SsfLike {
  receivers(): ResolvedReceiver[];
  queueCounts?(): Promise<Record<string, number>>;
  setQueue?: { queue: { getJobs(types: string[], start?: number, end?: number): Promise<Array<{ data?: { receiver?: string } } | undefined>> } };
}

interface Health {
  last_success: Record<string, unknown> | null;
  last_failure: Record<string, unknown> | null;
  last_attempt: Record<string, unknown> | null;
  delivered: number;
  failed: number;
  retries: number;
  superseded: number;
  queue: { waiting: number; delayed: number; active: number; total: number };
}

const HEALTH_WINDOW_MS = 24 * 3_600_000;
const HEALTH_MAX_SCAN = 20_000;
const QUEUE_SCAN = 5_000;

function attemptOf(e: StoredAuditEntry): Record<string, unknown> {
  const d = e.details;
  const out: Record<string, unknown> = { time: iso(e.time), action: e.action };
  for (const k of ['event', 'outcome', 'status', 'user', 'version', 'session_id', 'attempts', 'description', 'err', 'message', 'delay_ms']) {
    if (d[k] !== undefined && d[k] !== null && d[k] !== '') out[k] = d[k];
  }
  return out;
}

async function receiversView(ctx: ApiContext): Promise<Record<string, unknown>> {
  const ssf = ctx.services.ssf as SsfLike | undefined;
  const configured = ctx.config().receivers;
  const all = ssf ? ssf.receivers() : configured;
  const configNames = new Set(configured.map((r) => r.name));
  const health = new Map<string, Health>();
  const blank = (): Health => ({
    last_success: null,
    last_failure: null,
    last_attempt: null,
    delivered: 0,
    failed: 0,
    retries: 0,
    superseded: 0,
    queue: { waiting: 0, delayed: 0, active: 0, total: 0 },
  });
  for (const r of all) health.set(r.name, blank());

  const since = Date.now() - HEALTH_WINDOW_MS;
  const window = await scanAudit(ctx, {
    max: HEALTH_MAX_SCAN,
    since,
    visit: (e) => {
      if (!e.action.startsWith('set.')) return;
      const name = typeof e.details.receiver === 'string' ? e.details.receiver : undefined;
      if (!name) return;
      let h = health.get(name);
      if (!h) health.set(name, (h = blank()));
      h.last_attempt ??= attemptOf(e);
      if (e.action === 'set.delivered') {
        h.delivered++;
        h.last_success ??= attemptOf(e);
      } else if (e.action === 'set.failed') {
        h.failed++;
        h.last_failure ??= attemptOf(e);
      } else if (e.action === 'set.retry') {
        h.retries++;
        h.last_failure ??= attemptOf(e);
      } else if (e.action === 'set.superseded') h.superseded++;
    },
  });

  let queue: Record<string, number> = {};
  let queueScanned = 0;
  let queueTruncated = false;
  if (ssf?.queueCounts) {
    try {
      queue = await ssf.queueCounts();
    } catch {
      queue = {};
    }
  }
  if (ssf?.setQueue) {
    for (const state of ['waiting', 'delayed', 'active'] as const) {
      try {
        const jobs = await ssf.setQueue.queue.getJobs(state === 'waiting' ? ['waiting', 'prioritized'] : [state], 0, QUEUE_SCAN - 1);
        queueScanned += jobs.length;
        if (jobs.length >= QUEUE_SCAN) queueTruncated = true;
        for (const j of jobs) {
          const name = j?.data?.receiver;
          const h = name ? health.get(name) : undefined;
          if (!h) continue;
          h.queue[state]++;
          h.queue.total++;
        }
      } catch {
        /* queue depth is best effort */
      }
    }
  }

  const receivers = all.map((r) => ({
    name: r.name,
    source: configNames.has(r.name) ? 'config' : 'ssf-stream',
    kind: r.kind,
    enabled: r.enabled,
    endpoint: displayEndpoint(r.endpoint),
    audience: r.audience,
    subject_format: r.subject_format,
    events: r.events,
    alg: r.alg,
    timeout_ms: r.timeout,
    rate_limit: r.rate_limit ?? null,
    authorization: r.authorizationValue ? 'set' : 'none',
    health: health.get(r.name) ?? blank(),
  }));
  // Receivers seen in recent deliveries but no longer configured.
  const gone = [...health.entries()].filter(([name]) => !all.some((r) => r.name === name)).map(([name, h]) => ({ name, health: h }));
  return {
    receivers,
    removed: gone,
    queue,
    window: { since: iso(since), entries: window.scanned, complete: window.complete, queue_jobs_scanned: queueScanned, queue_truncated: queueTruncated },
  };
}

/* ------------------------------------------------------------------ behaviors */

function behaviorsView(ctx: ApiContext): Record<string, unknown> {
  const cfg = ctx.config();
  const base = new Set(['enabled', 'risk_level', 'expires_after', 'description', 'kind']);
  return {
    files: cfg.files,
    behaviors: cfg.behaviors.map((b) => ({
      id: b.id,
      kind: b.kind,
      enabled: b.enabled,
      risk_level: b.risk_level,
      expires_after_ms: b.expires_after,
      ...(typeof b.params.description === 'string' ? { description: b.params.description } : {}),
      params: Object.fromEntries(Object.entries(b.params).filter(([k]) => !base.has(k))),
    })),
  };
}

/* ------------------------------------------------------------------ deliveries */

const DELIVERY_MAX_SCAN = 20_000;

async function userDeliveries(ctx: ApiContext, user: string, limit: number, since?: number): Promise<Record<string, unknown>> {
  const deliveries: Array<Record<string, unknown>> = [];
  const r = await scanAudit(ctx, {
    max: DELIVERY_MAX_SCAN,
    ...(since ? { since } : {}),
    visit: (e) => {
      if (!e.action.startsWith('set.')) return;
      if (e.details.user !== user && e.target !== user) return;
      deliveries.push({
        id: e.id,
        time: iso(e.time),
        action: e.action,
        receiver: e.details.receiver ?? null,
        event: e.details.event ?? null,
        ...(e.details.version !== undefined ? { version: e.details.version } : {}),
        ...(e.details.session_id !== undefined ? { session_id: e.details.session_id } : {}),
        jti: e.details.jti ?? null,
        attempts: e.details.attempts ?? null,
        outcome: e.details.outcome ?? e.action.slice(4),
        ...(e.details.status !== undefined ? { status: e.details.status } : {}),
        ...(e.details.description ? { description: e.details.description } : {}),
        ...(e.details.err ? { err: e.details.err } : {}),
        ...(e.details.message ? { message: e.details.message } : {}),
        ...(e.details.delay_ms !== undefined ? { delay_ms: e.details.delay_ms } : {}),
      });
      return deliveries.length >= limit;
    },
  });
  return { user, deliveries, scanned: r.scanned, complete: r.complete || deliveries.length >= limit };
}

/* ------------------------------------------------------------------ routes */

/** Builds the console route module serving the console built into `dir`. */
export function consoleRoutesFrom(dir: string = CONSOLE_DIST): RouteModule {
  return (app, ctx) => {
    const files = loadConsoleFiles(dir);
    const serve = (req: FastifyRequest, reply: FastifyReply, path: string): FastifyReply => {
      if (!files.size) return sendError(reply, 404, 'not_found', 'the admin console is not built: run npm run build:console');
      const f = files.get(path === '' ? 'index.html' : path);
      if (!f) return sendError(reply, 404, 'not_found', `no console file ${path}`);
      return sendStatic(req, reply, f);
    };

    app.get('/console', { config: { scope: 'public' } }, async (req, reply) => {
      // Relative asset URLs need the trailing slash; a relative redirect also works behind a
      // reverse proxy that adds a path prefix.
      if (!req.url.split('?')[0]!.endsWith('/')) return reply.redirect('console/', 302);
      return serve(req, reply, '');
    });
    app.get<{ Params: { '*': string } }>('/console/*', { config: { scope: 'public' } }, async (req, reply) => serve(req, reply, req.params['*'] ?? ''));

    app.get<{ Querystring: { level?: string; behavior?: string; q?: string; cursor?: string; limit?: string } }>('/v1/console/users', async (req) =>
      usersTable(ctx, req.query),
    );

    app.get('/v1/receivers', async () => receiversView(ctx));

    app.get('/v1/behaviors', async () => behaviorsView(ctx));

    app.get<{ Params: { user: string }; Querystring: { limit?: string; since?: string } }>('/v1/users/:user/deliveries', async (req) => {
      const user = userOf(req.params.user);
      let since: number | undefined;
      if (req.query.since !== undefined && req.query.since !== '') {
        since = /^\d+$/.test(req.query.since) ? Number(req.query.since) : Date.parse(req.query.since);
        if (!Number.isFinite(since)) throw new RiskstreamError('BAD_REQUEST', 'since must be epoch milliseconds or an ISO-8601 time');
      }
      return userDeliveries(ctx, user, intParam(req.query.limit, 'limit', 200, 1000), since);
    });
  };
}

/** The console and its JSON routes, serving `console-dist/`. */
export const consoleRoutes: RouteModule = consoleRoutesFrom();
