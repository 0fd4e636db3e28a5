/**
 * The one reader of XINFO GROUPS / XINFO STREAM replies (flat `[field, value, …]` arrays) and of
 * stream ids, for the back-pressure, readiness, trimming, metrics and demo code.
 */
import type { Cluster } from 'ioredis';
import type { RedisClient } from './client.js';
import { RiskstreamError } from '../errors.js';
import { pipeline } from './client.js';

/** One consumer group of a stream, as XINFO GROUPS reports it. */
export interface GroupInfo {
  name: string;
  /** Entries delivered to the group and not acked yet. */
  pending: number;
  lastDeliveredId: string;
  /** Entries not yet delivered to the group; null when unknown (Redis < 7, or after XDEL/XTRIM). */
  lag: number | null;
}

/** The parts of XINFO STREAM riskstream reads. */
export interface StreamInfo {
  length: number;
  lastGeneratedId: string;
}

/** A flat `[field, value, field, value …]` reply as an object. */
export function replyFields(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

const count = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Parses an XINFO GROUPS reply (anything else: no groups). */
export function parseGroups(reply: unknown): GroupInfo[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((row) => {
    const m = replyFields(row);
    return {
      name: String(m.name),
      pending: count(m.pending),
      lastDeliveredId: String(m['last-delivered-id'] ?? '0-0'),
      lag: m.lag === null || m.lag === undefined ? null : Number(m.lag),
    };
  });
}

/** Parses an XINFO STREAM reply. */
export function parseStreamInfo(reply: unknown): StreamInfo {
  const m = replyFields(reply);
  return { length: count(m.length), lastGeneratedId: String(m['last-generated-id']) };
}

/**
 * XINFO GROUPS of each stream in one pipeline, in the order given. A stream whose reply is an
 * error (e.g. it does not exist yet) has no groups.
 */
export async function readGroups(redis: RedisClient | Cluster, streams: readonly string[]): Promise<GroupInfo[][]> {
  const p = pipeline(redis);
  for (const s of streams) p.xinfo('GROUPS', s);
  const res = (await p.exec()) ?? [];
  return streams.map((_, i) => {
    const [err, reply] = res[i] ?? [new RiskstreamError('INTERNAL', 'no reply')];
    return err ? [] : parseGroups(reply);
  });
}

/** `group`'s pending and lag summed over `streams` (an unknown lag counts as 0). */
export async function groupBacklog(redis: RedisClient | Cluster, streams: readonly string[], group: string): Promise<{ pending: number; lag: number }> {
  const out = { pending: 0, lag: 0 };
  for (const groups of await readGroups(redis, streams)) {
    for (const g of groups) {
      if (g.name !== group) continue;
      out.pending += g.pending;
      out.lag += g.lag ?? 0;
    }
  }
  return out;
}

/** The millisecond part of a stream id (`1700000000000-3` → 1700000000000). */
export function idMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}
