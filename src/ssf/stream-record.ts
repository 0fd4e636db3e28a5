/** A self-registered SSF stream as stored in Redis (the shape streams.ts and stream-cache.ts share). */

/** A stream's status (SSF 1.0 §8.1.2). */
export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** A stream registered by an SSF receiver through the management API (stored in Redis). */
export interface SsfStream {
  stream_id: string;
  /** Digest of the ssf token that created it (see stream-owner.ts); absent on legacy streams (admin only). */
  owner?: string;
  /** Set by riskstream from the endpoint's origin at creation (SSF §8.1.1: transmitter-supplied, never updated). */
  aud: string;
  endpoint_url: string;
  /** Sent as the Authorization header on every push (secret: never returned in full). */
  authorization_header?: string;
  events_requested: string[];
  description?: string;
  status: StreamStatus;
  reason?: string;
  /**
   * When the stream last left `disabled` (ms): SETs queued before it — before the disable or
   * during it — are never sent (a disabled stream holds nothing, SSF 1.0 §8.1.2). Absent on a
   * stream never disabled.
   */
  resumed_at?: number;
  /**
   * The status was set by the transmitter — an admin token other than the stream's owner — and is
   * not `enabled`: the stream's own receiver cannot change it (SSF 1.0 §8.1.2.2: 403), only an admin.
   */
  status_by_transmitter?: boolean;
  /** Subjects removed from the default (ALL), by email / id. */
  removed_subjects: string[];
  created_at: number;
  updated_at: number;
}
