import type { RouteModule } from '../server.js';
import { service } from '../context.js';
import type { RiskService } from '../../risk/service.js';
import { RISK_LEVELS, type RiskLevel } from '../../types.js';
import { RiskstreamError } from '../../errors.js';

interface Q {
  level?: string;
  cursor?: string;
  limit?: string;
}

function limitOf(q: Q): number | undefined {
  if (q.limit === undefined) return undefined;
  const n = Number(q.limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RiskstreamError('BAD_REQUEST', 'limit must be an integer from 1 to 1000');
  return n;
}

/** Users by level, a user's risk and risk events, and the admin reset. */
export const riskRoutes: RouteModule = (app, ctx) => {
  const risk = (): RiskService => service<RiskService>(ctx, 'risk');

  app.get<{ Querystring: Q }>('/v1/users', async (req) => {
    const { level, cursor } = req.query;
    if (level !== undefined && !RISK_LEVELS.includes(level as RiskLevel)) {
      throw new RiskstreamError('BAD_REQUEST', `level must be one of ${RISK_LEVELS.join(', ')}`);
    }
    return risk().list({ ...(level ? { level: level as RiskLevel } : {}), ...(cursor ? { cursor } : {}), ...(limitOf(req.query) ? { limit: limitOf(req.query)! } : {}) });
  });

  app.get<{ Params: { user: string } }>('/v1/users/:user/risk', async (req) => risk().get(req.params.user));

  app.get<{ Params: { user: string }; Querystring: Q }>('/v1/users/:user/events', async (req) => {
    await risk().get(req.params.user); // 404 for unknown users
    const limit = limitOf(req.query);
    return risk().events(req.params.user, { ...(req.query.cursor ? { cursor: req.query.cursor } : {}), ...(limit ? { limit } : {}) });
  });

  app.post<{ Params: { user: string }; Body: { reason?: string } | undefined }>('/v1/users/:user/risk/reset', async (req) => {
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    const reason = typeof body.reason === 'string' ? body.reason.slice(0, 500) : '';
    const r = await risk().reset(req.params.user, req.actor, reason);
    return { user: r.user, previous_level: r.previous, level: r.level, version: r.version, change_id: r.change?.id ?? null };
  });
};
