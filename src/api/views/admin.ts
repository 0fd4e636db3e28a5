/**
 * Response shapes of admin API routes the console reads besides its own (CONTRACT: the admin
 * API). Types only, shared with `web/` by `import type` as in ./console.ts.
 */
import type { ViewLevel } from './console.js';

/** `GET /v1/users/{user}/risk`: level, version and active behaviors with their evidence. */
export interface UserRisk {
  user: string;
  level: ViewLevel;
  version: number;
  /** When riskstream last changed the level (processing time). */
  changed_at: string | null;
  next_expiry: string | null;
  behaviors: Array<{
    id: string;
    level: ViewLevel;
    /** Event times of the behavior's first and latest hits. */
    first_at: string;
    last_at: string;
    expires_at: string | null;
    hits: number;
    summary: string;
    evidence: Record<string, unknown>;
  }>;
}

/** One entry of `GET /v1/audit`. */
export interface AuditEntry {
  id: string;
  action: string;
  actor: string;
  target?: string;
  time: string;
  details: Record<string, unknown>;
}

/** `GET /v1/audit`: newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string | null;
}
