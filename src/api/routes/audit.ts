import type { RouteModule } from '../server.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { AuditPage } from '../views/admin.js';
import { intParam, streamIdCursor } from '../params.js';

/** `GET /v1/audit?cursor=&limit=&action=` — the audit log, newest first (an empty cursor: the first page); and `GET /v1/whoami`. */
export const auditRoutes =
  (deps: { audit: AuditLog }): RouteModule =>
  (app, ctx) => {
    whoamiRoutes(app, ctx);
    app.get<{ Querystring: { cursor?: string; limit?: string; action?: string } }>('/v1/audit', async (req): Promise<AuditPage> => {
      const { action } = req.query;
      const cursor = streamIdCursor(req.query.cursor);
      const limit = intParam(req.query.limit, 'limit', 100, 1000);
      if (cursor === null) return { entries: [], next_cursor: null };
      const r = await deps.audit.list({ count: limit, ...(cursor ? { cursor } : {}), ...(action ? { action } : {}) });
      return {
        entries: r.entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
        next_cursor: r.next ?? null,
      };
    });
  };

/**
 * `GET /v1/whoami` — the caller's audit actor (`token:xxxxxxxx`, a fingerprint of their bearer
 * token, never the token) and scope, so an admin can find their own actions in the audit log.
 */
export const whoamiRoutes: RouteModule = (app) => {
  app.get('/v1/whoami', async (req) => ({ actor: req.actor, scope: 'admin' }));
};
