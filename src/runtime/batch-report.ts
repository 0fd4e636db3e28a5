import { observeBatch } from '../obs/batch-metrics.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { BehaviorHit, LevelChange } from '../types.js';
import type { EngineRuntime } from './engine-types.js';

/** What one engine step did (entries finished: applied or dead-lettered). */
export interface BatchReport {
  read: number;
  readByStream: Record<string, number>;
  applied: number;
  skipped: number;
  deadLettered: number;
  /** Partitions committed by this step. */
  committed: number;
  hits: BehaviorHit[];
  changes: LevelChange[];
  ms: number;
}

/**
 * Turns the engine's route and owner reports into {@link BatchReport}s for `listeners`, metrics and
 * logs. (Readiness does not read these: a stall is judged pipeline-wide, from Redis — src/runtime/stall-watch.ts.)
 */
export function reportBatches(engine: EngineRuntime, o: { metrics: Metrics; logger: Logger; listeners: ReadonlyArray<(r: BatchReport) => void> }): void {
  const { metrics, logger, listeners } = o;
  engine.onReport(({ route, step }) => {
    if (step) {
      const r: BatchReport = {
        read: step.applied + step.deadLettered,
        readByStream: route?.readByStream ?? {},
        applied: step.applied,
        skipped: step.skipped,
        deadLettered: step.deadLettered + (route?.deadLettered ?? 0),
        committed: step.committed,
        hits: step.hits,
        changes: step.changes,
        ms: step.ms,
      };
      observeBatch(metrics, logger, { ...r, conflicts: 0 });
      for (const l of listeners) l(r);
    } else if (route) {
      for (const [stream, n] of Object.entries(route.readByStream)) metrics.eventsRead.inc({ stream }, n);
      if (!route.deadLettered) return;
      const r: BatchReport = {
        read: route.deadLettered,
        readByStream: {},
        applied: 0,
        skipped: 0,
        deadLettered: route.deadLettered,
        committed: 0,
        hits: [],
        changes: [],
        ms: 0,
      };
      for (const l of listeners) l(r);
    }
  });
}
