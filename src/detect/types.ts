import type { z } from 'zod';
import type { CanonicalEvent } from '../types.js';

/**
 * What a detector reports for one event. The reducer adds the behavior id and its
 * configured level (`level` here overrides it, e.g. posture-score bands).
 */
export interface DetectorHit {
  time: number;
  summary: string;
  evidence: Record<string, unknown>;
  eventIds: string[];
  level?: 'low' | 'medium' | 'high';
}

/** Input to a detector: the event plus a stable id for evidence. */
export interface DetectorInput {
  event: CanonicalEvent;
  /** Event id if the event carries one, else `stream/entryId`. */
  eventId: string;
}

/** Limits the reducer passes to every detector so per-user state stays bounded. */
export interface DetectorLimits {
  /** Max remembered logins (impossible travel). */
  maxLogins: number;
  /** Max age of remembered logins (ms): `state.login_max_age`. Counting windows keep their own length. */
  maxAge: number;
  /** How late (event time) an event may arrive and still be placed in its window (ms). */
  allowedLateness: number;
}

/** A detector's parameter schema: a strict zod object (its fields only; config adds the common ones). */
export type ParamsSchema = z.ZodObject<z.ZodRawShape, z.core.$strict>;

/**
 * A pure detector: given its own per-user window (opaque JSON-able state, undefined at first),
 * one event, its params and `now`, it returns its new window and any hits. No I/O, no clock.
 * A new behavior is one such file plus one line in registry.ts.
 */
export interface Detector<P = Record<string, unknown>, W = unknown> {
  /** The behavior kind (`kind:` in behaviors.yaml; for a predefined behavior also its id). */
  kind: string;
  /** Its parameters' schema; `enabled`, `risk_level`, `expires_after`, `description` and `kind` are the config's. */
  params: ParamsSchema;
  /**
   * The parameters that decide which events its window counts (threshold's `match`): a configuration
   * changing one drops what the behavior counted, per user (src/risk/counted-with.ts).
   */
  countedBy?: readonly string[];
  /** Cheap pre-filter: does this detector care about this event at all? */
  accepts(event: CanonicalEvent, params: P): boolean;
  detect(window: W | undefined, input: DetectorInput, params: P, now: number, limits: DetectorLimits): { window: W | undefined; hits: DetectorHit[] };
}
