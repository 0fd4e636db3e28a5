import { waitReplicas, type RedisClient } from '../redis/client.js';
import { appendInOrder, type AppendRecord } from './append-in-order.js';
import type { Config } from '../config/load.js';
import type { Metrics } from '../obs/metrics.js';
import type { RawEntry } from '../types.js';
import { RiskstreamError } from '../errors.js';
import { MAX_ORIG_FIELD, writeDeadLetters } from './dead-letter.js';
import { decodeBody, routeEvent } from './http-body.js';
import { BodyGate } from './body-gate.js';
import { canonicalEntryFields, flatLength, tooLarge } from './decode.js';
import { timeWindowOf } from './time-window.js';
import { resolveProfile, type MappingConfig, type Profile } from './profiles/index.js';
import { groupBacklog } from '../redis/stream-info.js';
import { knownSecretsOf } from '../secrets/known-secrets.js';

/** Records written to Redis per write (one script) while a body is decoded. */
const WRITE_CHUNK = 1000;

/** What `POST /v1/events` uses. */
export interface IngestService {
  /** Throws BACKPRESSURE (429, Retry-After) when the consumer lag exceeds `streams.max_lag`. */
  checkBackpressure(): Promise<void>;
  /**
   * Takes a place for a body before it is read (see {@link BodyGate.admit}): INGEST_BUSY (429) when
   * `http.ingest_concurrency + http.ingest_queue` bodies are already arriving, waiting or being
   * decoded; UNAVAILABLE once {@link stopTaking}. Returns the release.
   */
  admit(): () => void;
  /**
   * Decodes and appends a body. `opts.profile`: the mapping profile every record is decoded with
   * (`okta`, `entra`, `cloudtrail`, `generic:<name>`; `?profile=`), instead of vendor detection;
   * an unknown one is BAD_REQUEST. `opts.signal`: once aborted (the caller was answered 503, or
   * closed the connection), no further chunk is written and the body stops with the signal's
   * reason; a body still waiting its turn leaves the queue.
   */
  accept(
    body: Buffer,
    headers: { contentType?: string | undefined; contentEncoding?: string | undefined },
    opts?: { profile?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<{ accepted: number; rejected: number; errors: Array<{ index: number; reason: string }> }>;
  /**
   * The worker is shutting down: bodies waiting their turn, and any posted from now on, are refused
   * UNAVAILABLE (503, `Retry-After: 1`; nothing of them appended: the shipper sends them again,
   * to another worker); the bodies being appended finish, and the drain waits for those alone.
   */
  stopTaking(): void;
}

/** The source stream a dead letter of `POST /v1/events` names (and its label in riskstream_events_dead_lettered_total). */
const HTTP_SOURCE = 'http:/v1/events';

/**
 * HTTP ingest (`POST /v1/events`): bodies decoded in chunks and appended to the input streams,
 * bounded by `http.ingest_concurrency` / `http.ingest_queue`, refused under back-pressure.
 */
export function createIngestService(deps: {
  config: () => Config;
  redis: RedisClient;
  metrics: Metrics;
  /** Told of each geo value an accepted record's decode took as absent (DecodeOptions.onCoerced). */
  onCoerced?: (reason: string) => void;
}): IngestService {
  const { redis, metrics } = deps;
  let lag = { at: 0, value: 0 };
  const currentLag = async (): Promise<number> => {
    if (Date.now() - lag.at < 1000) return lag.value;
    const c = deps.config();
    const backlog = await groupBacklog(redis, c.streams.inputs, c.streams.group);
    const total = backlog.lag + backlog.pending;
    lag = { at: Date.now(), value: total };
    return total;
  };
  const gate = new BodyGate(() => ({ concurrency: deps.config().raw.http.ingest_concurrency, maxQueued: deps.config().raw.http.ingest_queue }));
  /** One body: decoded in chunks (yielding to the event loop), written in pipelines of {@link WRITE_CHUNK}. */
  const acceptBody: IngestService['accept'] = async (body, headers, request = {}) => {
    request.signal?.throwIfAborted(); // answered 503, or the client gone, as its turn came: nothing to do
    const c = deps.config();
    const profile = request.profile === undefined ? undefined : requestProfile(c.raw.mapping, request.profile);
    const now = Date.now();
    const errors: Array<{ index: number; reason: string }> = [];
    let accepted = 0;
    let records: AppendRecord[] = [];
    let bad: Array<{ raw: RawEntry; reason: string }> = [];
    const flush = async (): Promise<void> => {
      // The caller already told 503 (Redis stalled): what is not sent yet stays unsent, so the
      // shipper's resend doubles at most the chunk that was in flight.
      request.signal?.throwIfAborted();
      if (bad.length) {
        // One script with a marker of the chunk: a resend of it (its reply lost) appends nothing.
        // No input stream keeps a refused record: the dead letter keeps it whole, up to the size a record may have.
        const maxField = Math.max(MAX_ORIG_FIELD, c.raw.ingest.max_event_size);
        const opts = { maxlen: c.raw.streams.maxlen, now, scrubPaths: c.raw.ingest.scrub_fields, chunk: true, maxField, secrets: knownSecretsOf(c) };
        await writeDeadLetters(redis, c.streams.deadLetter, bad, opts);
        metrics.deadLettered.inc({ stream: HTTP_SOURCE }, bad.length);
      }
      bad = [];
      const chunk = records;
      records = [];
      await appendInOrder(redis, c.streams, chunk);
    };
    // http.body_limit applies after decompression too (docs/shippers.md): a gzip bomb stops there.
    const opts = {
      maxBytes: c.raw.http.body_limit,
      maxEvents: c.raw.http.max_records,
      decode: {
        mapping: c.raw.mapping,
        ...(profile ? { profile } : {}),
        window: timeWindowOf(c.raw.ingest),
        scrubFields: c.raw.ingest.scrub_fields,
        maxEventSize: c.raw.ingest.max_event_size,
        ...(deps.onCoerced ? { onCoerced: deps.onCoerced } : {}),
      },
    };
    const total = await decodeBody(body, headers, opts, (item, index) => {
      let it = item;
      const fields = it.ok ? canonicalEntryFields(it.event) : undefined;
      // The entry as the router will read it must fit too (its stored form can be longer than the record).
      if (it.ok && flatLength(fields!) > c.raw.ingest.max_event_size) it = { ok: false, reason: tooLarge(c.raw.ingest.max_event_size), raw: it.raw };
      if (it.ok) {
        records.push([routeEvent(it.event, c.streams), fields!]);
        accepted++;
      } else {
        if (errors.length < 100) errors.push({ index, reason: it.reason });
        bad.push({ raw: { stream: HTTP_SOURCE, id: `${now}-${index}`, fields: { event: it.raw }, deliveries: 1 }, reason: it.reason });
      }
      return records.length + bad.length >= WRITE_CHUNK ? flush() : undefined;
    });
    await flush();
    // Accepted = on as many replicas as configured (a failover then loses none of it).
    request.signal?.throwIfAborted();
    if (accepted) await waitReplicas(redis, c.raw.redis.wait_replicas, c.raw.redis.wait_timeout);
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
    admit: () => gate.admit(),
    accept: (body, headers, request) => gate.run(() => acceptBody(body, headers, request), request?.signal),
    stopTaking: () => gate.close(() => new RiskstreamError('UNAVAILABLE', 'the worker is shutting down; send the body again', { retryAfter: 1 })),
  };
  return service;
}

/** The mapping profile `id` names (resolved once per request); an unknown one is BAD_REQUEST. */
function requestProfile(mapping: MappingConfig, id: string): { id: string; profile: Profile } {
  try {
    return { id, profile: resolveProfile(id, mapping) };
  } catch {
    const shown = JSON.stringify(id.slice(0, 100));
    throw new RiskstreamError('BAD_REQUEST', `unknown mapping profile ${shown} (okta, entra, cloudtrail, or generic:<name> of mapping.generic)`);
  }
}
