import type { RouteModule } from '../api/server.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { IngestService } from '../ingest/http-ingest.js';
import type { RiskService } from '../risk/service.js';
import type { UsersTable } from '../risk/users-table.js';
import type { SessionService } from '../sessions/service.js';
import { healthRoutes, type HealthDeps } from '../api/routes/health.js';
import { riskRoutes } from '../api/routes/risk.js';
import { auditRoutes } from '../api/routes/audit.js';
import { consoleRoutes } from '../api/routes/console.js';
import { consoleUsersRoutes } from '../api/routes/console-users.js';
import { receiversRoutes } from '../api/routes/receivers.js';
import { behaviorsRoutes } from '../api/routes/behaviors.js';
import { deliveriesRoutes } from '../api/routes/deliveries.js';
import { wellKnownRoutes } from '../api/routes/well-known.js';
import { ssfStreamRoutes } from '../api/routes/ssf-streams.js';
import { eventsRoutes } from '../api/routes/events.js';
import { sessionRoutes } from '../api/routes/sessions.js';
import type { SsfRuntime } from './ssf.js';

/** The services the worker's API serves. */
export interface WorkerServices {
  health: HealthDeps;
  risk: RiskService;
  users: UsersTable;
  audit: AuditLog;
  ssf: SsfRuntime;
  ingest: IngestService;
  sessions: SessionService;
  /** Raises a user's revocation mark before an admin's revoke-all (src/engine/control.ts `revokeMarkOrNone`). */
  markRevoked?: (req: { user: string; actor: string; reason: string }) => Promise<number | undefined>;
}

/** Every route module of the worker's admin API, each handed the services it uses. */
export function workerRoutes(s: WorkerServices): RouteModule[] {
  return [
    healthRoutes(s.health),
    riskRoutes({ risk: s.risk }),
    auditRoutes({ audit: s.audit }),
    consoleRoutes,
    consoleUsersRoutes({ users: s.users }),
    receiversRoutes({ receivers: s.ssf.receivers, setQueue: s.ssf.setQueue, audit: s.audit, verify: s.ssf.verifyReceiver }),
    behaviorsRoutes,
    deliveriesRoutes({ audit: s.audit }),
    wellKnownRoutes({ jwks: s.ssf.jwks }),
    ssfStreamRoutes({ streams: s.ssf.streams, rate: s.ssf.streamRate }),
    eventsRoutes({ ingest: s.ingest }),
    sessionRoutes({ sessions: s.sessions, ...(s.markRevoked ? { markRevoked: s.markRevoked } : {}) }),
  ];
}
