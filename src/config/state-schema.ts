/** The `state` section of riskstream.yaml: per-user detector state, its cache and sweeps, and what is kept of idle users. */
import { z } from 'zod';
import { durationMs, positiveMs } from '../duration.js';

export const stateSchema = z
  .strictObject({
    max_logins: z.number().int().positive().max(100).default(10),
    login_max_age: durationMs.prefault('7d'),
    allowed_lateness: durationMs.prefault('10m'),
    lru_size: z.number().int().nonnegative().default(10_000),
    sweep_interval: positiveMs.prefault('1s'),
    max_events_per_user: z.number().int().positive().default(1000),
    /**
     * A user idle this long in input time (level low, version 0, nothing active) is forgotten
     * (src/risk/retention.ts); 0s: never. In force at least the longest behavior `window` and
     * `login_max_age`, plus `allowed_lateness` (effectiveIdleTtl): a shorter value is raised, not
     * refused — a configuration with `login_max_age` past 30d stays valid with the default.
     */
    idle_user_ttl: durationMs.prefault('30d'),
    /**
     * A user kept only for its risk events (otherwise forgettable by `idle_user_ttl`) is forgotten
     * with them once its newest event time lies this long behind its partition's input time
     * (src/engine/forget.ts); a user whose level changed, back at low with nothing active, loses its
     * risk events then (its state and version kept). 0s: kept for good; with `idle_user_ttl: 0s`
     * neither happens. In force at least the idle TTL.
     */
    risk_event_retention: durationMs.prefault('365d'),
  })
  .prefault({});
