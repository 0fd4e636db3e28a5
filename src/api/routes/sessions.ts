import type { FastifyRequest } from 'fastify';
import { RiskstreamError } from '../../errors.js';
import type { RouteModule } from '../server.js';
import type { ApiContext } from '../context.js';
import { knownSecretsOf } from '../../secrets/known-secrets.js';
import { intParam, reasonParam, userParam } from '../params.js';
import { MAX_LIMIT } from '../../sessions/listing.js';
import type { SessionService } from '../../sessions/service.js';
import { DEFAULT_REVOKE_REASON, type RevokedSessionCopies } from '../../sessions/revoke.js';

export type { SessionService } from '../../sessions/service.js';

type Query = Record<string, string | undefined>;

/** A user id from the path (already URL-decoded by the router), normalised as at ingest. */
const pathUser = (req: FastifyRequest): string => userParam((req.params as { user: string }).user);

/** `?user=` of a session id's routes: whose copy of the id is meant (undefined: the earliest login's to read, every copy to revoke). */
function copyOwner(req: FastifyRequest): string | undefined {
  const u = (req.query as Query).user;
  return u === undefined || u === '' ? undefined : userParam(u);
}

/** The revocation reason from a JSON body `{reason}` or `?reason=`; defaults to "revoked by admin". */
const reasonOf = (req: FastifyRequest, ctx: ApiContext): string => reasonParam(req.body, req.query, DEFAULT_REVOKE_REASON, knownSecretsOf(ctx.config()));

/** A revocation's answer; `users`: every user whose copy of the id was revoked (users of different partitions each hold one), `user` first. */
function summary(r: RevokedSessionCopies): Record<string, unknown> {
  return {
    revoked: true,
    session_id: r.change.sessionId,
    user: r.change.user,
    users: r.copies.map((c) => c.change.user),
    reason: r.change.reason,
    actor: r.change.actor,
    time: r.change.time,
    change_id: r.change.id,
  };
}

/**
 * Session audit API (admin scope): list active sessions, inspect the identity a session was
 * granted, revoke one or all of a user's sessions (each revocation queues a session-revoked SET).
 */
export const sessionRoutes =
  (deps: {
    sessions: SessionService;
    /**
     * Raises the user's revocation mark through the user's partition owner (src/engine/control.ts
     * `revokeMarkOrNone`) before a revoke-all: the mark (epoch ms), or undefined when none was applied in time.
     */
    markRevoked?: (req: { user: string; actor: string; reason: string }) => Promise<number | undefined>;
  }): RouteModule =>
  (app, ctx) => {
    const { sessions } = deps;

    app.get('/v1/sessions', async (req) => {
      const q = req.query as Query;
      const limit = intParam(q.limit, 'limit', undefined, MAX_LIMIT);
      // `?user=`: that user's active sessions, all in one page (a user's are capped: sessions.max_per_user).
      if (q.user !== undefined) {
        if (q.cursor) throw new RiskstreamError('BAD_REQUEST', "cursor and user cannot be combined: a user's sessions come in one page");
        const list = await sessions.store.listUser(userParam(q.user));
        return { sessions: list, next_cursor: null };
      }
      return sessions.store.listAll({ cursor: q.cursor || undefined, limit });
    });

    // `?user=`: that user's copy of the id only (users of different partitions who logged in with one id each hold one).
    app.get('/v1/sessions/:id', async (req) => {
      const { id } = req.params as { id: string };
      const user = copyOwner(req);
      const s = await sessions.store.get(id, user);
      if (!s) throw new RiskstreamError('NOT_FOUND', user === undefined ? 'no active session with this id' : 'no active session with this id of this user');
      return s;
    });

    app.delete('/v1/sessions/:id', async (req) => {
      const { id } = req.params as { id: string };
      const opts = { actor: req.actor, reason: reasonOf(req, ctx) };
      const user = copyOwner(req);
      if (user === undefined) return summary(await sessions.revoke(id, opts));
      const copies = await sessions.revokeUserSession(user, id, opts);
      if (!copies.length) throw new RiskstreamError('NOT_FOUND', 'no active session with this id of this user');
      return summary({ ...copies[0]!, copies });
    });

    app.get('/v1/users/:user/sessions', async (req) => {
      const user = pathUser(req);
      const svc = sessions;
      const [list, devices] = await Promise.all([svc.store.listUser(user), svc.store.devices(user)]);
      return { user, sessions: list, devices };
    });

    app.delete('/v1/users/:user/sessions', async (req) => {
      const user = pathUser(req);
      const opts = { actor: req.actor, reason: reasonOf(req, ctx) };
      // The mark first, committed by the owner in order with the user's events: a login applied
      // before it is stored by now and revoked below; one applied after it, not later in event
      // time (a shipper's lag), is revoked on its own when applied (src/sessions/policy-mark.ts).
      const mark = deps.markRevoked ? await deps.markRevoked({ user, ...opts }) : undefined;
      const revoked = await sessions.revokeUser(user, opts);
      return { user, revoked: revoked.length, sessions: revoked.map((r) => r.change.sessionId), revoked_up_to: mark ?? null };
    });
  };
