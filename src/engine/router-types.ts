import type { CanonicalEvent, RawEntry, StreamEvent } from '../types.js';
import type { RoutedHandoff } from './handoff.js';

/** What the router needs from the ingest side. */
export interface RouterParts {
  /** Decodes one input entry (time bounds around `now`), or says why it cannot. */
  decode(raw: RawEntry, now: number): { ok: true; event: CanonicalEvent } | { ok: false; reason: string };
  /** Enriches decoded events in place (geo from ip, per-IP state, captured sessions); events it derives are appended (route-write.ts). */
  enrich(events: StreamEvent[]): Promise<void>;
  /** Writes undecodable entries to the dead-letter stream (before they are acked). */
  deadLetter(bad: Array<{ raw: RawEntry; reason: string }>): Promise<void>;
  /**
   * A fence of a newer lease epoch (`epoch`) refused this router before its first read: it stopped.
   * Either a newer router holds the lease (this one's loss shows at its next renewal) or the epoch
   * counter was lost with the fences kept: the engine raises its lease past `epoch` (LeaseManager.raise).
   */
  onFenced?(epoch: number): void;
  /** Where partition entries are offered to this process's owner (optional: the owner decodes them). */
  handoff?: Pick<RoutedHandoff, 'put' | 'take'>;
}

/** Router settings. */
export interface RouterOptions {
  /** Input streams (the control stream is added after them). */
  sources: string[];
  group: string;
  /** The router's consumer name: one name for every router, so a successor re-reads the pending entries. */
  consumer: string;
  /** Entries per stream per read. */
  count: number;
  /** Replicas that must acknowledge the routed entries before their input is acked (`redis.wait_replicas`). */
  wait?: { replicas: number; timeoutMs: number };
}

/** What one routing step did. */
export interface RouteReport {
  read: number;
  readByStream: Record<string, number>;
  routed: number;
  deadLettered: number;
  /** Entries read but held back (a slower stream may still hold older entries). */
  buffered: number;
  /** Partitions written to. */
  partitions: number;
  /** Partition entries found written already (re-deliveries; see route-write.ts). */
  present: number;
  /** Events derived at the edge (password_spray victims) that found no order key left and were not routed (route-write.ts). */
  derivedDropped?: number;
  /**
   * Every stream was read to its end and nothing is held back: the next read would find only
   * entries added since, so the loop waits for input first (no read that finds nothing).
   */
  caughtUp?: boolean;
}
