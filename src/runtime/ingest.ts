import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { RawEntry, StreamEvent } from '../types.js';
import type { RouteModule } from '../api/server.js';
import { RiskstreamError } from '../errors.js';
import { openGeoIp, type GeoIp } from '../ingest/geoip.js';
import { writeDeadLetters } from '../ingest/dead-letter.js';
import { decodeBody, routeEvent } from '../ingest/http-body.js';
import { BodyGate } from '../ingest/body-gate.js';
import { scrubText } from '../secrets/secret-values.js';
import { canonicalEntryFields } from '../ingest/decode.js';
import { timeWindowOf } from '../ingest/time-window.js';
import { startListBridge, type ListBridge } from '../ingest/list-bridge.js';
import { eventsRoutes } from '../api/routes/events.js';

/** Records written to Redis per pipeline while a body is decoded. */
const WRITE_CHUNK = 1000;

/** What `POST /v1/events` uses. */
export interface IngestService {
  /** Throws BACKPRESSURE (429, Retry-After) when the consumer lag exceeds `streams.max_lag`. */
  checkBackpressure(): Promise<void>;
  accept(body: Buffer, headers: { contentType?: string | undefined; contentEncoding?: string | undefined }): Promise<{ accepted: number; rejected: number; errors: Array<{ index: number; reason: string }> }>;
}

/** The ingest side of the worker: geo enrichment, dead letters, list bridge, HTTP ingest. */
export interface IngestRuntime {
  enrich?: (events: StreamEvent[]) => Promise<void>;
  deadLetter(bad: Array<{ raw: RawEntry; reason: string }>): Promise<void>;
  service: IngestService;
  routes: RouteModule[];
  close(): Promise<void>;
}

/** Builds the ingest side from config. */
export async function buildIngest(deps: { config: () => Config; redis: Redis; keys: Keys; logger: Logger; metrics: Metrics }): Promise<IngestRuntime> {
  const { redis, logger, metrics } = deps;
  const cfg = deps.config();
  const geo: GeoIp | null = await openGeoIp(cfg);
  const bridge: ListBridge = startListBridge(redis, cfg.raw.bridge, {
    onError: (err) => logger.warn({ err }, 'list bridge pass failed'),
  });
  let lag = { at: 0, value: 0 };
  const currentLag = async (): Promise<number> => {
    if (Date.now() - lag.at < 1000) return lag.value;
    const c = deps.config();
    let total = 0;
    const p = redis.pipeline();
    for (const s of c.streams.inputs) p.xinfo('GROUPS', s);
    for (const [err, rows] of (await p.exec()) ?? []) {
      if (err) continue;
      for (const row of rows as unknown[][]) {
        const m: Record<string, unknown> = {};
        for (let j = 0; j + 1 < row.length; j += 2) m[String(row[j])] = row[j + 1];
        if (m.name === c.streams.group) total += Number(m.lag ?? 0) + Number(m.pending ?? 0);
      }
    }
    lag = { at: Date.now(), value: total };
    return total;
  };
  const gate = new BodyGate(() => ({ concurrency: deps.config().raw.http.ingest_concurrency, maxQueued: deps.config().raw.http.ingest_queue }));
  /** One body: decoded in chunks (yielding to the event loop), written in pipelines of {@link WRITE_CHUNK}. */
  const acceptBody: IngestService['accept'] = async (body, headers) => {
    const c = deps.config();
    const now = Date.now();
    const errors: Array<{ index: number; reason: string }> = [];
    let accepted = 0;
    let p = redis.pipeline();
    let queued = 0;
    let bad: Array<{ raw: RawEntry; reason: string }> = [];
    const flush = async (): Promise<void> => {
      if (bad.length) await writeDeadLetters(redis, c.streams.deadLetter, bad, { maxlen: c.raw.streams.maxlen, now, scrubPaths: c.raw.ingest.scrub_fields });
      bad = [];
      if (queued === 0) return;
      const res = (await p.exec()) ?? [];
      for (const [err] of res) if (err) throw new RiskstreamError('INTERNAL', 'could not append events', undefined, { cause: err });
      p = redis.pipeline();
      queued = 0;
    };
    // http.body_limit applies after decompression too (docs/shippers.md): a gzip bomb stops there.
    const opts = { maxBytes: c.raw.http.body_limit, maxEvents: c.raw.http.max_records, decode: { mapping: c.raw.mapping, window: timeWindowOf(c.raw.ingest), scrubFields: c.raw.ingest.scrub_fields } };
    const total = await decodeBody(body, headers, opts, (it, index) => {
      if (it.ok) {
        p.xadd(routeEvent(it.event, c.streams), '*', ...canonicalEntryFields(it.event));
        queued++;
        accepted++;
      } else {
        if (errors.length < 100) errors.push({ index, reason: it.reason });
        bad.push({ raw: { stream: 'http:/v1/events', id: `${now}-${index}`, fields: { event: it.raw }, deliveries: 1 }, reason: it.reason });
      }
      return queued + bad.length >= WRITE_CHUNK ? flush() : undefined;
    });
    await flush();
    metrics.ingested.inc({ result: 'accepted' }, accepted);
    metrics.ingested.inc({ result: 'rejected' }, total - accepted);
    return { accepted, rejected: total - accepted, errors };
  };
  const service: IngestService = {
    checkBackpressure: async () => {
      const max = deps.config().raw.streams.max_lag;
      const l = await currentLag();
      if (l > max) throw new RiskstreamError('BACKPRESSURE', `consumer lag ${l} exceeds ${max}; retry later`, { retryAfter: 5 });
    },
    accept: (body, headers) => gate.run(() => acceptBody(body, headers)),
  };
  return {
    ...(geo
      ? {
          enrich: async (events: StreamEvent[]) => void geo.enrichEvents(events),
        }
      : {}),
    deadLetter: async (bad) => {
      const c = deps.config();
      await writeDeadLetters(redis, c.streams.deadLetter, bad, { maxlen: c.raw.streams.maxlen, scrubPaths: c.raw.ingest.scrub_fields });
      for (const b of bad) metrics.deadLettered.inc({ stream: b.raw.stream });
      logger.warn({ count: bad.length, first: bad[0] ? scrubText(bad[0].reason) : undefined }, 'entries dead-lettered');
    },
    service,
    routes: [eventsRoutes],
    close: () => bridge.stop(),
  };
}
