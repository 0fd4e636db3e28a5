/**
 * What the API does with a failed authentication: answers it (401 / 403 with RFC 6750 challenges),
 * counts it (`riskstream_api_auth_failures_total{reason}`), logs it now and then (warn, at most once
 * a minute per reason: client address and route, never the token), and refuses an address that
 * sent too many unknown tokens (`http.auth_failures`) with 429 `auth_throttled` before its token is
 * even looked at.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogThrottle } from '../obs/log-throttle.js';
import type { ApiContext } from './context.js';
import { TokenSet, type Scope } from './auth.js';
import { AuthThrottle, clientKey } from './auth-throttle.js';
import { sendCode } from './error-reply.js';
import { classifyAddress } from '../net/address-class.js';

/** Why a request failed authentication (the metric's `reason`). */
export type AuthFailure = 'missing' | 'invalid' | 'forbidden';

/** How often one kind of failure is logged at most (ms). */
const LOG_EVERY_MS = 60_000;

/** Answers, counts, logs and throttles failed authentications (one per server). */
export class AuthGuard {
  readonly #throttle: AuthThrottle;
  readonly #logs: LogThrottle;

  constructor(private readonly ctx: ApiContext) {
    const now = ctx.now ?? Date.now;
    this.#throttle = new AuthThrottle(() => {
      const a = ctx.config().raw.http.auth_failures;
      return { limit: a.limit, windowMs: a.window, blockMs: a.block };
    }, now);
    this.#logs = new LogThrottle(LOG_EVERY_MS, now);
  }

  /**
   * 429 `auth_throttled` with `Retry-After` when the caller's address is refused now (sent before
   * its token is checked: a refused address learns nothing, even from a valid token); undefined
   * when it is not.
   */
  refuse(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    const address = addressOf(req);
    if (onThisHost(address)) return undefined;
    const wait = this.#throttle.retryAfter(clientKey(address));
    if (wait === undefined) return undefined;
    this.ctx.metrics?.authThrottled.inc();
    reply.header('Retry-After', String(wait));
    return sendCode(reply, 'AUTH_THROTTLED', `too many failed authentications from this address; retry in ${wait} s`);
  }

  /**
   * Answers a failed check — 401 with a Bearer challenge saying whether no token or a wrong one was
   * sent (RFC 6750 §3.1: a token refused is `error="invalid_token"`; no credentials, no error code),
   * 403 with `insufficient_scope` naming `scope` for a valid token without it — and records it.
   */
  deny(req: FastifyRequest, reply: FastifyReply, verdict: AuthFailure, scope: Scope): FastifyReply {
    this.record(req, verdict, scope);
    if (verdict === 'forbidden') {
      reply.header('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
      return sendCode(reply, 'FORBIDDEN', `this token lacks the ${scope} scope`);
    }
    reply.header('WWW-Authenticate', verdict === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
    return sendCode(reply, 'UNAUTHORIZED', verdict === 'missing' ? 'a bearer token is required' : 'invalid token');
  }

  /**
   * Counts the failure; an unknown token also counts towards its address's refusal (no token, or a
   * valid one of another scope, guesses nothing) — except from this host (loopback), which is
   * counted and logged but never refused. Logged: the address, the method and the route
   * pattern (never the path, which may hold a pasted token); the caller's `token:xxxxxxxx` only
   * for a valid token (`forbidden`) — an unknown one is whatever the caller chose (it names no
   * one) and may be a secret pasted by mistake (a password), whose short unsalted digest in a log
   * could be checked against guesses offline.
   */
  private record(req: FastifyRequest, reason: AuthFailure, scope: Scope): void {
    this.ctx.metrics?.authFailures.inc({ reason });
    const address = addressOf(req);
    if (reason === 'invalid' && !onThisHost(address) && this.#throttle.fail(clientKey(address))) {
      this.ctx.metrics?.authBlocks.inc();
      const said = this.#logs.take('blocked');
      if (said) {
        const { limit, window, block } = this.ctx.config().raw.http.auth_failures;
        this.ctx.logger.warn(
          { address, limit, window_ms: window, block_ms: block, repeats_not_logged: said.suppressed },
          'client address refused (429 auth_throttled) after too many unknown tokens; repeats are logged once a minute',
        );
      }
    }
    if (reason === 'missing') return; // counted only: a browser or probe without a token is no attack
    const said = this.#logs.take(reason);
    if (!said) return;
    this.ctx.logger.warn(
      {
        reason,
        address,
        method: req.method,
        route: req.routeOptions.url ?? '(no route)',
        scope,
        ...(reason === 'forbidden' ? { actor: TokenSet.actor(req.headers.authorization) } : {}),
        repeats_not_logged: said.suppressed,
      },
      reason === 'invalid' ? 'unknown bearer token; repeats are logged once a minute' : 'bearer token without the scope; repeats are logged once a minute',
    );
  }
}

/** The client's address as the server takes it (the socket's peer, or as `http.trust_proxy`'s proxies say). */
function addressOf(req: FastifyRequest): string {
  return req.ip || 'unknown';
}

/**
 * A client on the worker's own host (loopback): never refused. Whoever runs there already reaches
 * Redis and the configuration; and a local tool, probe or test harness sending wrong tokens must not
 * lock every local client (a sidecar proxy without `http.trust_proxy` among them) out for the block.
 */
function onThisHost(address: string): boolean {
  return classifyAddress(address) === 'loopback';
}
