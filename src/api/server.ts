import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ERROR_CODES, RiskstreamError, type ErrorCode } from '../errors.js';
import type { ApiContext } from './context.js';
import { TokenSet, type Scope } from './auth.js';
import { knownSecretsOf, scrubAll } from '../secrets/known-secrets.js';
import { RouteMethods } from './route-methods.js';
import { NEEDS_REDIS, REDIS_RETRY_AFTER, boundRedisWaits } from './redis-deadline.js';
import { closeConnectionsOnClose } from './connection-drain.js';
import { registerBodyParsers } from './body-parsers.js';
import { applySecurityHeaders, rawSecurityHeaders } from './security-headers.js';
import { sendCode, sendError } from './error-reply.js';
import { AuthGuard } from './auth-guard.js';

export { sendError };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; default `admin`. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Non-secret label of the caller's token, for audit entries. */
    actor: string;
  }
}

/** A route module: registers its routes on the app. */
export type RouteModule = (app: FastifyInstance, ctx: ApiContext) => void | Promise<void>;

/** The `error` code of a client error fastify raises itself, by status (any other: `bad_request`). */
const CLIENT_ERRORS: Record<number, string> = Object.fromEntries(
  (['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'NOT_ACCEPTABLE', 'UNSUPPORTED_MEDIA_TYPE'] as const).map((c) => [ERROR_CODES[c], c.toLowerCase()]),
);

/** What to answer a request node's HTTP parser refused: status, reason phrase, the API's error body. */
function parserError(code: ErrorCode, reason: string, message: string): [number, string, { error: string; message: string }] {
  return [ERROR_CODES[code], reason, { error: code.toLowerCase(), message }];
}

/**
 * Most bytes of a body on every route but `POST /v1/events` (which takes `http.body_limit`, sized
 * for shippers' batches): their bodies are a few fields of JSON, parsed whole, some sent with an
 * `ssf` token (a receiver's). `http.body_limit` when that is smaller.
 */
export const API_BODY_LIMIT = 5 * 1024 * 1024;

/** Longest path parameter (a user, a session id, a pasted token). */
const MAX_PARAM_LENGTH = 8 * 1024;

/**
 * Builds the HTTP server (fastify: schema-light routing, built-in body limits and a
 * well-tested HTTP stack; its overhead is far below Redis round trips).
 */
export async function buildServer(ctx: ApiContext, modules: RouteModule[]): Promise<FastifyInstance> {
  const requestTimeout = ctx.config().raw.http.request_timeout;
  const app = Fastify({
    logger: false,
    bodyLimit: Math.min(ctx.config().raw.http.body_limit, API_BODY_LIMIT),
    // A request that has not fully arrived within http.request_timeout: 408, closed (node checks
    // every connectionsCheckingInterval: a quarter of the timeout, at most 30 s).
    requestTimeout,
    // Given to node's server at construction too: set afterwards (as fastify does), node never applies it.
    http: { requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeout / 4))) },
    // The client's address (req.ip: failed authentications are counted under it) is the socket's
    // peer, or what http.trust_proxy's proxies say in X-Forwarded-For — never a client's own claim.
    trustProxy: ctx.config().raw.http.trust_proxy.length ? ctx.config().raw.http.trust_proxy : false,
    // While closing, the API's own 503 (onRequest below), not fastify's body of another shape.
    return503OnClosing: false,
    // A path parameter may be a pasted token (GET /v1/sessions/{jwt}): up to 8 KiB.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // The router's own refusals (a malformed URL, a parameter too long) in the API's error shape,
    // never quoting the path: it may hold a token.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = (err as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH';
      void sendError(reply, 400, 'bad_request', tooLong ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : 'malformed URL');
    },
    // What node's HTTP parser refuses before any route (a request line or headers too long, a
    // malformed request), in the API's error shape too.
    clientErrorHandler: (err, socket) => {
      const code = (err as { code?: string }).code;
      const [status, reason, body] =
        code === 'HPE_HEADER_OVERFLOW'
          ? parserError('HEADER_TOO_LARGE', 'Request Header Fields Too Large', 'the request line and headers are too long')
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? parserError('REQUEST_TIMEOUT', 'Request Timeout', 'the request took too long to arrive')
            : parserError('BAD_REQUEST', 'Bad Request', 'malformed HTTP request');
      // Not into a response already under way (a pipelined request), nor on a closed socket.
      if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) return socket.destroy();
      const text = JSON.stringify(body);
      // Closed once written, whatever the client does (a half-open socket would otherwise stay).
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n${rawSecurityHeaders()}Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
        () => socket.destroy(),
      );
      setTimeout(() => socket.destroy(), 1000).unref();
    },
  });
  app.decorateRequest('actor', '');
  // Failed authentications: answered, counted, logged now and then; an address sending many unknown tokens refused a while.
  const guard = new AuthGuard(ctx);
  // Redis stalled with its connection open: 503 after http.redis_timeout, not a request held until it answers.
  boundRedisWaits(app, ctx);
  // Every route's methods, to answer 405 (with Allow) rather than 404 for a path that exists.
  const routes = new RouteMethods();
  app.addHook('onRoute', (r) => routes.add(r.url, r.method, (r.config as { scope?: string } | undefined)?.scope === 'public'));

  // Bodies are JSON, whatever type a client sending JSON names; a blank body is no body.
  registerBodyParsers(app);

  /** Unknown routes answer 401 before 404 for unauthenticated callers, like real routes. */
  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    // `/.well-known/` never asks for a token: what is not there is simply not found.
    const path = req.url.split('?')[0] ?? '';
    // A route anyone may read (`/healthz`) asked with another method: 405 without a token too.
    if (!req.url.startsWith('/.well-known/') && !routes.open(path)) {
      const refused = guard.refuse(req, reply);
      if (refused) return refused;
      // Any valid token (admin, ingest, ssf) gets the 404; 'forbidden' only means "valid, other scope".
      const verdict = ctx.tokens.check(req.headers.authorization, 'admin');
      if (verdict === 'missing' || verdict === 'invalid') return guard.deny(req, reply, verdict, 'admin');
    }
    const allowed = routes.allowed(path);
    if (allowed.length && !allowed.includes(req.method)) {
      reply.header('Allow', allowed.join(', '));
      return sendCode(reply, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`);
    }
    return sendCode(reply, 'NOT_FOUND', `no route ${req.method} ${path}`);
  };

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // No client holds the close: a request not fully arrived is cut, one under way answered (then closed).
  closeConnectionsOnClose(app);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // A request on a kept-alive connection while the worker shuts down: retry (elsewhere, or later).
    if (closing) {
      reply.header('Retry-After', '1').header('Connection', 'close');
      return sendCode(reply, 'UNAVAILABLE', 'the worker is shutting down; retry');
    }
    // Unknown routes (and a known path asked with another method) have no scope: answered here,
    // 401, 405 or 404 (never 403), before any body is read or parsed — a caller without a token
    // never has its body buffered and parsed, nor gets a 400 or 415 for it instead of the 401.
    if (req.is404) return notFound(req, reply);
    const scope: Scope = req.routeOptions.config?.scope ?? 'admin';
    // An address refused for its unknown tokens: 429 before its token (even a valid one) is looked at.
    const refused = scope === 'public' ? undefined : guard.refuse(req, reply);
    if (refused) return refused;
    const header = req.headers.authorization;
    const verdict = ctx.tokens.check(header, scope);
    if (verdict !== 'ok') return guard.deny(req, reply, verdict, scope);
    req.actor = TokenSet.actor(header);
    // Redis unreachable: an answer now (503, retry) rather than a request held until it is back,
    // and applied then (a shipper that gave up meanwhile would send its events again).
    if (ctx.redisUp && !ctx.redisUp() && NEEDS_REDIS.test(req.url)) {
      reply.header('Retry-After', REDIS_RETRY_AFTER);
      return sendCode(reply, 'UNAVAILABLE', 'Redis is unreachable; retry later');
    }
    // Every query parameter is one value: a repeated one (`?stream_id=a&stream_id=b`) is refused
    // here rather than reaching a route as an array.
    for (const [name, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
      if (Array.isArray(v)) return sendCode(reply, 'BAD_REQUEST', `query parameter ${JSON.stringify(name.slice(0, 64))} is given more than once`);
    }
  });

  // An error's message may quote what the caller sent (a user, a session or stream id): a token
  // pasted there — a JWT, or one of the worker's own tokens — is not echoed back.
  app.addHook('onSend', async (_req, reply, payload) => {
    // Answers name users, sessions and claims: no cache keeps them (unless a route said otherwise);
    // no sniffing, framing, referrer, nor anything run should one be opened as a page.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    applySecurityHeaders(reply);
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    // Scrubbed as text, value by value (the body stays JSON: a scrubbed value may be URL-decoded).
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload; // not JSON: none of ours
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return payload;
    const known = knownSecretsOf(ctx.config());
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'string' ? scrubAll(v, known) : v;
    return JSON.stringify(out);
  });

  app.addHook('onResponse', async (req, reply) => {
    if (!ctx.logger.isLevelEnabled('debug')) return;
    // The path may carry a token (a JWT pasted as a session id): logged scrubbed, the query never.
    ctx.logger.debug(
      {
        method: req.method,
        path: scrubAll(req.url.split('?')[0] ?? '', knownSecretsOf(ctx.config())),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        actor: req.actor || undefined,
      },
      'http',
    );
  });

  app.setNotFoundHandler((req, reply) => notFound(req, reply));

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof RiskstreamError) {
      if (typeof err.details?.retryAfter === 'number') reply.header('Retry-After', String(err.details.retryAfter));
      return sendCode(reply, err.code, err.message);
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) return sendError(reply, 413, 'payload_too_large', 'request body too large');
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
      return sendError(reply, e.statusCode, CLIENT_ERRORS[e.statusCode] ?? 'bad_request', e.message ?? 'bad request');
    if (e.statusCode === 503) return sendError(reply, 503, 'unavailable', e.message ?? 'unavailable');
    ctx.logger.error({ err }, 'api error');
    return sendError(reply, 500, 'internal', 'internal error');
  });

  for (const m of modules) await m(app, ctx);
  return app;
}
