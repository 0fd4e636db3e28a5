import type { RouteModule } from '../server.js';
import { RiskstreamError } from '../../errors.js';

/** `GET /v1/audit?cursor=&limit=&action=` — the audit log, newest first. */
export const auditRoutes: RouteModule = (app, ctx) => {
  app.get<{ Querystring: { cursor?: string; limit?: string; action?: string } }>('/v1/audit', async (req) => {
    const { cursor, action } = req.query;
    if (cursor !== undefined && !/^\d+-\d+$/.test(cursor)) throw new RiskstreamError('BAD_REQUEST', 'invalid cursor');
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RiskstreamError('BAD_REQUEST', 'limit must be an integer from 1 to 1000');
    const r = await ctx.audit.list({ count: limit, ...(cursor ? { cursor } : {}), ...(action ? { action } : {}) });
    return {
      entries: r.entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
      next_cursor: r.next ?? null,
    };
  });
};
