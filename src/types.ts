/** Core domain types shared by ingest, detectors, the reducer and delivery. */

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
/** A user's (or a behavior's) risk level. */
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** A level as a caller spells it, in any case (`high`, or `HIGH` as SETs spell it); undefined when it names none. */
export function parseLevel(text: string): RiskLevel | undefined {
  const level = text.toLowerCase();
  return (RISK_LEVELS as readonly string[]).includes(level) ? (level as RiskLevel) : undefined;
}

/** Numeric rank of a level, for max(). */
export function levelRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/** The higher of two levels. */
export function maxLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
/** Severity of a DLP / EDR detection, normalised. */
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Where an event happened: coordinates, or only `country` / `city` (then no distance checks). */
export interface Geo {
  lat?: number;
  lon?: number;
  accuracy_km?: number;
  country?: string;
  city?: string;
}

export interface SessionInfo {
  id: string;
  expires_at?: number; // epoch ms
  idp?: string;
  claims?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface DeviceInfo {
  id?: string;
  posture?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface NetworkInfo {
  asn?: number;
  colo?: string;
  via?: string;
  [k: string]: unknown;
}

/**
 * The canonical event after decoding and field mapping (docs/interfaces.md §2).
 * `time` is normalised to epoch milliseconds. Unknown fields are kept.
 */
export interface CanonicalEvent {
  type: string;
  id?: string;
  user: string;
  time: number;
  outcome?: string;
  ip?: string;
  geo?: Geo;
  session?: SessionInfo;
  device?: DeviceInfo;
  network?: NetworkInfo;
  severity?: string;
  [k: string]: unknown;
}

/** Where an event came from: its input stream and entry id. */
export interface EntryRef {
  stream: string;
  id: string;
}

/** An event read from an input stream. */
export interface StreamEvent {
  ref: EntryRef;
  event: CanonicalEvent;
  /** Always 1: see {@link RawEntry.deliveries} (not the consumer group's delivery count). */
  deliveries: number;
}

/** A raw entry as read from Redis (fields flattened to a record). */
export interface RawEntry {
  stream: string;
  id: string;
  /** The entry's fields; a name given more than once holds its last value. */
  fields: Record<string, string>;
  /**
   * A dead letter's `deliveries`: always 1. An entry is dead-lettered by the first processing that
   * fails it, never retried first (`ingest.max_deliveries` is ignored); the consumer group's
   * delivery count is not read (an entry read again after a crash or a router takeover reads 1 too).
   */
  deliveries: number;
  /** The earlier values of names given more than once (name, value), in entry order: kept for the dead letter. */
  repeated?: Array<[string, string]>;
}

/** One detector firing: a behavior observed for a user, with its evidence. */
export interface BehaviorHit {
  behavior: string;
  level: RiskLevel;
  /** Event time of the triggering event (epoch ms): the hit's `occurred_at`. */
  time: number;
  /** Processing time: when riskstream recorded the hit (epoch ms; absent on hits stored before it existed). */
  processedAt?: number;
  /**
   * When the hit stops counting (epoch ms): its event time (or the processing time, if the event
   * time is in the future) + the behavior's `expires_after`; null for `never`.
   */
  expiresAt?: number | null;
  /** True when the hit had already expired when it arrived (a backfill): it raised no level. */
  expiredOnArrival?: boolean;
  /** Human-readable one-liner ("London → Sydney, 16 990 km in 2 h = 8 495 km/h"). */
  summary: string;
  evidence: Record<string, unknown>;
  /** Ids of the events behind the hit (event id, else stream entry id). */
  eventIds: string[];
}

/** A behavior currently counting toward a user's level. */
export interface ActiveBehavior {
  level: RiskLevel;
  firstAt: number;
  lastAt: number;
  /** Epoch ms when it stops counting at `level`, or null for never. */
  expiresAt: number | null;
  /**
   * Lower levels its hits hold beyond `expiresAt`, highest first (src/risk/tiers.ts): when `level`
   * expires, the behavior counts at the next of these until its own expiry. Absent: none.
   */
  lower?: Array<{ level: RiskLevel; expiresAt: number | null }>;
  hits: number;
  /** Ids of the latest triggering events (bounded): the same event seen again is not a new hit. */
  ids?: string[];
  /** Summary and evidence of the most recent hit. */
  summary: string;
  evidence: Record<string, unknown>;
}

/** A login remembered for impossible-travel comparisons. */
export interface LoginRecord {
  time: number;
  lat: number;
  lon: number;
  acc?: number;
  ip?: string;
  city?: string;
  country?: string;
  id?: string;
  /** `network.asn` (impossible_travel's `allow_asns` is applied to remembered logins too). */
  asn?: number;
}

/** The JWS algorithms riskstream signs SETs with. */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
/** A JWS algorithm riskstream signs SETs with. */
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** Language tags reason texts exist in (SET `reason_admin` / `reason_user`; `reason_languages`). */
export const REASON_LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'ja'] as const;
/** One of {@link REASON_LANGUAGES}. */
export type ReasonLanguage = (typeof REASON_LANGUAGES)[number];

/** Language-tagged text (`{"en": "…"}`). */
export type LangText = Record<string, string>;

/** Who caused a level change. */
export type InitiatingEntity = 'system' | 'admin' | 'policy' | 'user';

/** A change of a user's risk level — becomes one SET per receiver. */
export interface LevelChange {
  /** Deterministic id shared by every receiver's copy (SET `txn`). */
  id: string;
  user: string;
  version: number;
  previous: RiskLevel;
  current: RiskLevel;
  /** Behaviors that were active after the change, for `risk_reason`. */
  behaviors: string[];
  reason: string;
  initiatingEntity: InitiatingEntity;
  /**
   * When riskstream changed the level (processing time, epoch ms): the change's `processed_at`
   * and the SET's `event_timestamp`.
   */
  time: number;
  /**
   * Event time of what caused the change (epoch ms): the triggering event's time for a hit, the
   * moment the behavior stopped counting for an expiry, the reset's time for a reset.
   */
  occurredAt?: number;
}
