import type { RouteModule } from '../server.js';
import { MAX_PAGE, type RiskService } from '../../risk/service.js';
import { RiskstreamError } from '../../errors.js';
import { intParam, levelParam, reasonParam, streamIdCursor, userParam } from '../params.js';
import { knownSecretsOf } from '../../secrets/known-secrets.js';
import type { UserRisk } from '../views/admin.js';
import { decodeCursor } from '../../sessions/cursor.js';

interface Q {
  level?: string;
  cursor?: string;
  limit?: string;
}

const limitOf = (q: Q): number | undefined => intParam(q.limit, 'limit', undefined, MAX_PAGE);

/** `/v1/users?cursor=`: a position as RiskService.list issues it (BAD_REQUEST otherwise). */
function listCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new RiskstreamError('BAD_REQUEST', 'invalid cursor');
  decodeCursor(cursor);
  return cursor;
}

/** Users by level, a user's risk and risk events, and the admin reset. */
export const riskRoutes =
  (deps: { risk: RiskService }): RouteModule =>
  (app, ctx) => {
    const { risk } = deps;

    app.get<{ Querystring: Q }>('/v1/users', async (req) => {
      // Empty is no filter, as an empty limit is the default (and as the console reads it).
      const level = levelParam(req.query.level);
      const cursor = listCursor(req.query.cursor);
      const limit = limitOf(req.query);
      return risk.list({ ...(level ? { level } : {}), ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) });
    });

    app.get<{ Params: { user: string } }>('/v1/users/:user/risk', async (req): Promise<UserRisk> => risk.get(userParam(req.params.user)));

    app.get<{ Params: { user: string }; Querystring: Q }>('/v1/users/:user/events', async (req) => {
      const user = userParam(req.params.user);
      const limit = limitOf(req.query);
      const cursor = streamIdCursor(req.query.cursor);
      await risk.get(user); // 404 for unknown users
      if (cursor === null) return { events: [], next_cursor: null };
      return risk.events(user, { ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) });
    });

    app.post<{ Params: { user: string }; Body: unknown }>('/v1/users/:user/risk/reset', async (req) => {
      const r = await risk.reset(userParam(req.params.user), req.actor, reasonParam(req.body, req.query, '', knownSecretsOf(ctx.config())));
      return { user: r.user, previous_level: r.previous, level: r.level, version: r.version, change_id: r.change?.id ?? null };
    });
  };
