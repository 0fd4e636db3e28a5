/**
 * The `ssf` section of riskstream.yaml: self-registered SSF streams (OpenID SSF 1.0 §8) — the
 * endpoint policy their pushes obey, their push limits and the stream management API's limits.
 */
import { z } from 'zod';
import { allowedEndpointProblem } from './allowed-endpoints.js';
import { durationMs, positiveMs } from '../duration.js';

/** Self-registered SSF streams (OpenID SSF 1.0 §8): endpoint policy and limits. */
export const ssfSchema = z
  .strictObject({
    /**
     * Hosts, `host:port` or CIDRs that self-registered streams may push to besides public https
     * addresses (default none: loopback, private, link-local and plain-http endpoints are refused).
     * A listed endpoint may be plain http.
     */
    allowed_endpoints: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((entry, ctx) => {
            const problem = allowedEndpointProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      .default([]),
    /** Push timeout for self-registered streams (configured receivers keep their own `timeout`). */
    timeout: positiveMs.prefault('5s'),
    /** Sends in flight at once to one self-registered stream, per worker. */
    per_stream_concurrency: z.number().int().positive().default(2),
    /** Sends in flight at once to all self-registered streams together, per worker (kept below `delivery.concurrency`). */
    streams_concurrency: z.number().int().positive().default(16),
    /** SETs held for a paused stream; beyond this the oldest are dropped (audited as `receiver.held_full`). */
    max_held: z.number().int().positive().default(10_000),
    /** Limits on self-registered streams (stream management API); over a limit → 403 (`streams_per_owner`) / 413 / 429. */
    limits: z
      .strictObject({
        /** Streams one ssf token may own (403 `stream_limit` beyond). */
        streams_per_owner: z.number().int().positive().default(10),
        /**
         * State-changing management calls (create, PATCH / PUT, DELETE, status, subjects, verify)
         * one ssf token may make per second, sustained, shared by every worker on the prefix
         * (429 `rate_limited` + Retry-After beyond); admin tokens and reads are not limited. `0` = none.
         */
        changes_per_second: z.number().nonnegative().max(1_000_000).default(10),
        /** Calls an ssf token may make at once on top of that rate (the bucket: a receiver adding its subjects at start-up). */
        changes_burst: z.number().int().positive().max(1_000_000).default(1000),
        /** Least time between two `/ssf/verify` calls on one stream (429 + Retry-After sooner); `0s` = none. */
        min_verification_interval: durationMs.prefault('30s'),
        /** Longest `state` of a verification request (characters). */
        state_length: z.number().int().positive().default(1024),
        /** Longest `description` (and status `reason`). */
        description_length: z.number().int().positive().default(1024),
        /** Most entries in `events_requested`, and the longest one. */
        events_requested: z.number().int().positive().default(32),
        event_uri_length: z.number().int().positive().default(512),
        /** Longest `delivery.endpoint_url` and `delivery.authorization_header`. */
        endpoint_url_length: z.number().int().positive().default(2048),
        authorization_header_length: z.number().int().positive().default(4096),
        /** Most subjects removed from one stream (`subjects:remove`), and the longest subject id. */
        removed_subjects: z.number().int().positive().default(10_000),
        subject_length: z.number().int().positive().default(512),
      })
      .prefault({}),
  })
  .prefault({});
