import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { BehaviorHit, LevelChange } from '../types.js';

/** What metrics and the log take from a risk-scoring batch report (pipelines/risk-scoring.ts). */
export interface BatchCounts {
  read: number;
  readByStream: Record<string, number>;
  applied: number;
  skipped: number;
  conflicts: number;
  ms: number;
  hits: Array<Pick<BehaviorHit, 'behavior' | 'expiredOnArrival'>>;
  changes: Array<Pick<LevelChange, 'user' | 'previous' | 'current' | 'initiatingEntity'>>;
}

/** Counts a batch in the metrics; logs it (info) when it hit a behavior or changed a level. */
export function observeBatch(metrics: Metrics, logger: Logger, r: BatchCounts): void {
  for (const [stream, n] of Object.entries(r.readByStream)) metrics.eventsRead.inc({ stream }, n);
  metrics.eventsProcessed.inc(r.applied);
  metrics.eventsSkipped.inc(r.skipped);
  metrics.commitConflicts.inc(r.conflicts);
  if (r.read) metrics.batchSeconds.observe(r.ms / 1000);
  for (const h of r.hits) {
    metrics.behaviorHits.inc({ behavior: h.behavior });
    if (h.expiredOnArrival) metrics.hitsExpiredOnArrival.inc({ behavior: h.behavior });
  }
  for (const c of r.changes) metrics.riskChanges.inc({ level: c.current, initiator: c.initiatingEntity });
  if (r.hits.length || r.changes.length)
    logger.info({ read: r.read, hits: r.hits.map((h) => `${h.behavior}`), changes: r.changes.map((c) => `${c.user}:${c.previous}->${c.current}`) }, 'batch');
}
