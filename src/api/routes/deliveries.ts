import type { RouteModule } from '../server.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { RiskstreamError } from '../../errors.js';
import { isoOrNull } from '../receiver-health.js';
import type { DeliveriesView, Delivery } from '../views/console.js';
import { isoMs } from '../../ingest/iso-time.js';
import { intParam, userParam } from '../params.js';

const DELIVERY_MAX_SCAN = 20_000;

/** The `details` of a `set.*` audit entry, as the delivery worker writes them. */
interface SetAuditDetails {
  receiver?: string;
  event?: string;
  version?: number;
  session_id?: string;
  jti?: string;
  attempts?: number;
  outcome?: string;
  status?: number;
  description?: string;
  err?: string;
  message?: string;
  delay_ms?: number;
}

/**
 * `GET /v1/users/{user}/deliveries?limit=&since=` (admin): a user's SET delivery attempts (audit
 * `set.*`), newest first, back to `since` (epoch ms or ISO-8601) when given.
 */
export const deliveriesRoutes =
  (deps: { audit: AuditLog }): RouteModule =>
  (app) => {
    app.get<{ Params: { user: string }; Querystring: { limit?: string; since?: string } }>(
      '/v1/users/:user/deliveries',
      async (req): Promise<DeliveriesView> => {
        const user = userParam(req.params.user);
        let since: number | undefined;
        if (req.query.since !== undefined && req.query.since !== '') {
          since = /^\d+$/.test(req.query.since) ? Number(req.query.since) : isoMs(req.query.since.trim()); // offset-less: UTC, as events
          if (!Number.isFinite(since)) throw new RiskstreamError('BAD_REQUEST', 'since must be epoch milliseconds or an ISO-8601 time');
        }
        const limit = intParam(req.query.limit, 'limit', 200, 1000);
        const deliveries: Delivery[] = [];
        const r = await deps.audit.scan({
          max: DELIVERY_MAX_SCAN,
          ...(since ? { since } : {}),
          visit: (e) => {
            if (!e.action.startsWith('set.')) return;
            if (e.details.user !== user && e.target !== user) return;
            const d = e.details as SetAuditDetails;
            deliveries.push({
              id: e.id,
              time: isoOrNull(e.time),
              action: e.action,
              receiver: d.receiver ?? null,
              event: d.event ?? null,
              ...(d.version !== undefined ? { version: d.version } : {}),
              ...(d.session_id !== undefined ? { session_id: d.session_id } : {}),
              jti: d.jti ?? null,
              attempts: d.attempts ?? null,
              outcome: d.outcome ?? e.action.slice(4),
              ...(d.status !== undefined ? { status: d.status } : {}),
              ...(d.description ? { description: d.description } : {}),
              ...(d.err ? { err: d.err } : {}),
              ...(d.message ? { message: d.message } : {}),
              ...(d.delay_ms !== undefined ? { delay_ms: d.delay_ms } : {}),
            });
            return deliveries.length >= limit;
          },
        });
        return { user, deliveries, scanned: r.scanned, complete: r.complete || deliveries.length >= limit };
      },
    );
  };
