/**
 * The schema of riskstream.yaml (zod): every section with its defaults; the `http` section lives in
 * http-schema.ts, the `ssf` section in ssf-schema.ts, the `state` section in state-schema.ts,
 * receivers and signing keys in receiver-schema.ts.
 */
import { z } from 'zod';
import { durationMs, positiveMs } from '../duration.js';
import { receiverSchema, signingKeySchema, signingKid } from './receiver-schema.js';
import { ssfSchema } from './ssf-schema.js';
import { SIGNING_ALGS } from '../types.js';
import { isHttpsOrLocal, isRedisUrl, noCredentials, noQueryOrFragment } from './url-rules.js';
import { httpSchema } from './http-schema.js';
import { stateSchema } from './state-schema.js';
import { redactClaimProblem } from './redact-claims.js';
import { checkedString } from './checked-string.js';

/** The log levels (`log_level`, `RISKSTREAM_LOG_LEVEL`, `--log-level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A stream name (a Redis key): an empty one would be the key `""`, shared by every stream so named. */
const streamName = z.string().min(1, { message: 'must not be empty (a stream is a Redis key; leave it out for the default)' });

/** A map key that names a Redis key (a bridged list, a mapped stream): `""` is refused as an empty stream name is. */
const keyName = (what: string): z.ZodString => z.string().min(1, { message: `${what} must not be empty (it is a Redis key)` });

export const riskstreamSchema = z.strictObject({
  redis: z
    .strictObject({
      url: z.string().refine(isRedisUrl, 'must be a redis:// or rediss:// URL (or a unix socket path)').default('redis://127.0.0.1:6379'),
      /** Startup nodes of a Redis Cluster (`redis://host:port`); when set, the cluster holds everything (`REDIS_URL` still wins). */
      cluster: z
        .array(z.string().regex(/^rediss?:\/\/[^\s/]+(:\d+)?\/?$/, 'a startup node is redis://host:port'))
        .min(1)
        .superRefine((nodes, ctx) => {
          // One client connects to every node with the first's credentials and TLS: another's would be ignored.
          const sign = (u: string): string | undefined => {
            const url = URL.canParse(u) ? new URL(u) : undefined;
            return url && `${url.protocol} ${url.username} ${url.password}`;
          };
          const first = sign(nodes[0] ?? '');
          nodes.forEach((n, i) => {
            const own = sign(n);
            if (i > 0 && first !== undefined && own !== undefined && own !== first)
              ctx.addIssue({
                code: 'custom',
                path: [i],
                message: "startup nodes share one scheme, user and password (the client uses the first node's for every node): this one's differ",
              });
          });
        })
        .optional(),
      /**
       * Replicas that must acknowledge writes before riskstream acknowledges input (WAIT): the
       * router before it acks routed entries, HTTP ingest before its 202. 0 (default): the master's
       * acknowledgement suffices (a failover may lose its last unreplicated writes).
       */
      wait_replicas: z.number().int().min(0).max(16).default(0),
      /** How long such a WAIT may take before the step fails and is retried (default 1s). */
      wait_timeout: positiveMs.prefault('1s'),
      /** Prefix of every key riskstream owns (streams default to `<prefix>:login` …). */
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]+$/)
        .default('riskstream'),
    })
    .prefault({}),
  streams: z
    .strictObject({
      login: streamName.optional(),
      activity: streamName.optional(),
      extra: z.array(streamName).default([]),
      dead_letter: streamName.optional(),
      risk_events: streamName.optional(),
      audit: streamName.optional(),
      group: z.string().min(1, { message: 'must not be empty (a consumer group needs a name; leave it out for riskstream)' }).default('riskstream'),
      batch_size: z.number().int().positive().max(10_000).default(2000),
      block: positiveMs.prefault('1s'),
      claim_idle: durationMs.prefault('60s'),
      /** Approximate MAXLEN for risk-events, audit and dead-letter streams. */
      maxlen: z.number().int().positive().default(1_000_000),
      /** Trim acked input entries older than this (MINID); never trims unacked ones. */
      input_retention: durationMs.prefault('7d'),
      /** POST /v1/events answers 429 when the input lag exceeds this many entries. */
      max_lag: z.number().int().positive().default(100_000),
    })
    .prefault({}),
  http: httpSchema,
  signing: z
    .strictObject({
      key_file: z.string().default('keys/signing.pem'),
      alg: z.enum(SIGNING_ALGS).default('ES256'),
      kid: signingKid.optional(),
      /** Extra keys: RS256 for Okta receivers, and previous keys kept published after a rotation. */
      keys: z.array(signingKeySchema).default([]),
      /** Public JWK files of retired keys still published in the JWKS. */
      previous_public_keys: z.array(z.string()).default([]),
      /** Kids never to publish again (a compromised key): out of every worker's JWKS at once, and out of Redis. */
      withdrawn_kids: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /**
   * The SET `iss`: an https URL (http only for a local development host) with no query or fragment
   * (SSF 1.0 §7.1 `issuer`, §8.1.1 `iss`; the SSF metadata's endpoints are paths appended to it).
   */
  issuer: z
    .string()
    .refine((u) => URL.canParse(u) && noQueryOrFragment(u) && noCredentials(u) && isHttpsOrLocal(u), {
      message: 'issuer must be an https URL (http only for localhost) with no query, fragment or user:password',
    })
    .default('https://riskstream.example.com'),
  receivers: z.array(receiverSchema).default([]),
  geoip: z.strictObject({ mmdb: z.string().optional(), cache_size: z.number().int().positive().default(10_000) }).prefault({}),
  sessions: z
    .strictObject({
      /** Session audit on (default). Off: logins are scored but their identities are not stored. */
      enabled: z.boolean().default(true),
      /** Claim names (or paths under `claims`) stored as "[redacted]"; a path into another identity field is refused. */
      redact_claims: z.array(checkedString(redactClaimProblem)).default([]),
      default_lifetime: positiveMs.prefault('12h'),
      max_per_user: z.number().int().positive().default(100),
      /**
       * Largest stored identity: bytes of its JSON (UTF-8). A larger one has its largest claims (then
       * other large fields) replaced by `{truncated, bytes, sha256}` markers (docs/sessions.md).
       */
      max_identity_bytes: z
        .number()
        .int()
        .min(4096)
        .max(64 * 1024 * 1024)
        .default(64 * 1024),
    })
    .prefault({}),
  state: stateSchema,
  /** The partitioned single-owner engine (docs/operations.md "Partitions and leases"). */
  engine: z
    .strictObject({
      /** Fixed number of partitions (a user's = a stable hash of the user id). Change only on an empty prefix. */
      partitions: z.number().int().min(1).max(4096).default(64),
      /** Longest time applied entries wait in memory before their partition's commit. */
      commit_interval: durationMs.prefault('50ms'),
      /** Commit earlier once this many entries are applied and uncommitted. */
      commit_entries: z.number().int().positive().max(100_000).default(5000),
      /** Partition and router leases expire this long after the last renewal. */
      lease_ttl: durationMs.prefault('10s'),
      /** Lease renewal, membership heartbeat and rebalance period (well under lease_ttl). */
      heartbeat: durationMs.prefault('2s'),
      /** Entries read per partition read (XREAD COUNT). */
      read_count: z.number().int().positive().max(100_000).default(2000),
      /** Routing pauses while the partition streams hold more entries than this (owners behind). */
      max_routed: z.number().int().positive().default(20_000),
      /** Route in a thread of its own (worker_threads), beside the owners on another core. */
      router_thread: z.boolean().default(true),
    })
    // A lease must be renewed well before it expires (a tenth of the ttl is kept as clock margin).
    .refine((e) => e.heartbeat > 0 && e.heartbeat < e.lease_ttl * 0.9, { message: 'heartbeat must be shorter than 0.9 × lease_ttl', path: ['heartbeat'] })
    .prefault({}),
  delivery: z
    .strictObject({
      concurrency: z.number().int().positive().default(64),
      /** Give up retrying after this long. */
      horizon: positiveMs.prefault('24h'),
      backoff_base: positiveMs.prefault('1s'),
      backoff_max: positiveMs.prefault('10m'),
      /**
       * Delay before one retry after a receiver answers 400 `invalid_key` (it may not have fetched
       * a rotated key yet); `0s` (the default): a 400 is permanent, as RFC 8935 says.
       */
      invalid_key_retry: durationMs.prefault('0s'),
    })
    .prefault({}),
  mapping: z
    .strictObject({
      /** Named profiles by stream: stream name → profile id (okta, entra, cloudtrail, generic:<name>). */
      streams: z.record(keyName('a mapped stream name'), z.string()).default({}),
      /** Generic dotted-path mappings: profile name → { canonical field: source path }. */
      generic: z.record(z.string(), z.record(z.string(), z.string())).default({}),
    })
    .prefault({}),
  bridge: z
    .strictObject({
      /** Redis list key → target stream (log shippers RPUSH here). */
      lists: z.record(keyName('a bridged list name'), streamName).default({}),
      batch: z.number().int().positive().default(500),
      interval: positiveMs.prefault('200ms'),
    })
    .prefault({}),
  /** Self-registered SSF streams (OpenID SSF 1.0 §8): endpoint policy and limits. */
  ssf: ssfSchema,
  /** Input handling shared by every source: bounds, the poison-entry guard, scrubbing (docs/operations.md § Bad input). */
  ingest: z
    .strictObject({
      /** Event times older than this before now are dead-lettered (`time_out_of_range`). */
      max_past: durationMs.prefault('365d'),
      /** Event times later than this after now are dead-lettered (`time_out_of_range`). */
      max_future: durationMs.prefault('2d'),
      /** A session's `expires_at` is capped to its login time + this. */
      max_session_lifetime: positiveMs.prefault('90d'),
      /**
       * Largest event: the characters of an input entry's field names and values (≈ bytes for
       * ASCII), or of a `POST /v1/events` record; a larger one is dead-lettered (`event: larger
       * than N characters`). Bounds what one event costs the router, the partition streams and memory.
       */
      max_event_size: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
      /**
       * Accepted for compatibility, ignored: an entry whose processing fails is dead-lettered at once
       * (`processing_failed` / `decode_failed`), and a dead letter's `deliveries` is always 1.
       */
      max_deliveries: z.number().int().min(1).max(1000).default(5),
      /**
       * `/readyz` answers 503 (`pipeline`: `router_stalled` / `partitions_stalled`) on every worker when entries wait
       * and nothing of them has moved for this long. Keep it above lease_ttl + 2 × heartbeat (a takeover).
       */
      stall_after: positiveMs.prefault('60s'),
      /**
       * Canonical field paths (`session.claims.ssn`, `password`, `attributes.raw`) removed from
       * every event at ingest, before anything is stored (risk events, sessions, dead letters; HTTP
       * ingest also before the input stream). Secret-named fields and token-shaped values are
       * scrubbed anyway (docs/sessions.md).
       */
      scrub_fields: z.array(z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, { message: 'a dotted field path like session.claims.ssn' })).default([]),
    })
    .prefault({}),
  /** How long a SIGTERM/SIGINT drain may take before the worker gives up and exits 1 (`0s` would abandon every step: refused). */
  shutdown_timeout: positiveMs.prefault('30s'),
  log_level: z.enum(LOG_LEVELS).default('info'),
});

export type RiskstreamFileConfig = z.output<typeof riskstreamSchema>;
