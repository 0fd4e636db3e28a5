import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, RiskstreamError } from '../errors.js';
import { LogThrottle } from '../obs/log-throttle.js';
import type { ApiContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Aborted (reason: an `UNAVAILABLE` error) once the request was answered 503 because Redis stopped
     * answering: work not yet sent (the next chunk of an ingest body) is not sent any more.
     */
    redisDeadline: AbortSignal | undefined;
  }
}

/** Routes that read or write Redis (health, readiness, metrics, the JWKS and the console's files do not). */
export const NEEDS_REDIS = /^\/(v1|ssf)\//;

/** `Retry-After` (seconds) of a 503 for Redis not answering, as for Redis unreachable. */
export const REDIS_RETRY_AFTER = '5';

const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();

/**
 * Bounds how long a `/v1/*` or `/ssf/*` request waits on a Redis that keeps its connection but does
 * not answer (stalled, partitioned): `http.redis_timeout` after its handler starts, a request still
 * running has Redis PINGed (one PING at a time, however many requests wait; `ctx.redisProblem`);
 * no PONG within 1 s → 503 `unavailable` with `Retry-After`, and `req.redisDeadline` aborted.
 * A PONG means Redis answers and the request waits on something else (an owner applying a
 * reset, a large page): it is given another `http.redis_timeout`. Commands already sent are not
 * taken back: a write may still be applied once Redis answers again, as on a clean outage with
 * ioredis's offline queue. Once a request was answered so, the next ones are first PINGed for
 * (the same 1 s) and answered 503 without reaching their route until a PONG comes back.
 * Without `ctx.redisProblem` (tests), nothing is bounded.
 */
export function boundRedisWaits(app: FastifyInstance, ctx: ApiContext): void {
  const probe = ctx.redisProblem;
  if (!probe) return;
  let probing: Promise<string | undefined> | undefined;
  const problem = (): Promise<string | undefined> =>
    (probing ??= probe()
      .catch(() => 'PING failed')
      .finally(() => (probing = undefined)));
  const stop = (req: FastifyRequest): void => {
    clearTimeout(timers.get(req));
    timers.delete(req);
  };
  // Why the last request was answered 503 (Redis not answering); cleared by the next PONG. Meanwhile a
  // request is PINGed for first, never handed to its route: a route waiting on a stalled Redis holds
  // its body and commands until Redis answers, however long the stall (shippers resend all the while).
  let stalled: string | undefined;
  const throttle = new LogThrottle(10_000);
  const refuse = (req: FastifyRequest, reply: FastifyReply, why: string, ms: number): void => {
    const err = new RiskstreamError('UNAVAILABLE', `Redis is not answering (${why}); retry later`, { retryAfter: Number(REDIS_RETRY_AFTER) });
    // The route's pattern, never its path (it may hold a token); once per route per 10 s (shippers retry fast).
    const route = req.routeOptions.url;
    const logged = throttle.take(`${req.method} ${route}`);
    if (logged)
      ctx.logger.warn(
        { method: req.method, route, ms, why, ...(logged.suppressed ? { suppressed: logged.suppressed } : {}) },
        'API request answered 503: Redis is not answering',
      );
    if (reply.raw.headersSent) return void reply.raw.destroy(err);
    void reply
      .code(ERROR_CODES.UNAVAILABLE)
      .header('Retry-After', REDIS_RETRY_AFTER)
      .type('application/json')
      .send({ error: 'unavailable', message: err.message });
  };

  app.decorateRequest('redisDeadline', undefined);
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!NEEDS_REDIS.test(req.url)) return;
    if (stalled !== undefined) {
      const t0 = Date.now();
      stalled = await problem();
      if (stalled !== undefined) {
        refuse(req, reply, stalled, Date.now() - t0);
        return reply; // answered: the route never runs
      }
    }
    const ac = new AbortController();
    req.redisDeadline = ac.signal;
    const arm = (): void => {
      const ms = ctx.config().raw.http.redis_timeout;
      timers.set(
        req,
        setTimeout(() => {
          if (reply.sent || !timers.has(req)) return;
          void problem().then((why) => {
            if (reply.sent || !timers.has(req)) return;
            if (why === undefined) return arm();
            timers.delete(req);
            stalled = why;
            ac.abort(new RiskstreamError('UNAVAILABLE', `Redis is not answering (${why}); retry later`, { retryAfter: Number(REDIS_RETRY_AFTER) }));
            refuse(req, reply, why, ms);
          });
        }, ms),
      );
    };
    arm();
  });
  app.addHook('onResponse', async (req) => stop(req));
  app.addHook('onRequestAbort', async (req) => stop(req));
}
