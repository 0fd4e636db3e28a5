import { RiskstreamError } from '../errors.js';
import { isStreamSubject } from './subject-key.js';
import { DEFAULT_EVENTS, MASKED_HEADER, type SsfStream, type StreamStatus } from './streams.js';

/**
 * A stream with `status` (and `reason`, cleared when absent) set at `now`; leaving `disabled` marks
 * `resumed_at`, so that the SETs queued before then (a retrying one, one waiting for a paused
 * stream's resume) are dropped rather than sent: a disabled stream holds nothing (SSF 1.0 §8.1.2).
 * `byTransmitter` (an admin not the stream's owner): a status other than `enabled` is the
 * transmitter's, which the stream's receiver cannot change ({@link SsfStream.status_by_transmitter}).
 */
export function withStatus(cur: SsfStream, status: StreamStatus, reason: string | undefined, now: number, byTransmitter = false): SsfStream {
  const { status_by_transmitter: _held, ...rest } = cur;
  return {
    ...rest,
    status,
    reason,
    ...(cur.status === 'disabled' && status !== 'disabled' ? { resumed_at: now } : {}),
    ...(byTransmitter && status !== 'enabled' ? { status_by_transmitter: true } : {}),
  };
}

/**
 * A stream after a PATCH (or PUT with `replace`: missing Receiver-Supplied properties are deleted,
 * defaults apply, SSF §8.1.1.4) of `fields`. A new `endpoint_url` drops the stored
 * `authorization_header` unless the request brings one, and must keep the origin `aud` was
 * derived from (TRANSMITTER_SUPPLIED otherwise).
 */
export function updatedStream(cur: SsfStream, fields: Partial<SsfStream>, replace: boolean): SsfStream {
  const moved = fields.endpoint_url !== undefined && fields.endpoint_url !== cur.endpoint_url;
  if (moved && new URL(fields.endpoint_url!).origin !== new URL(cur.endpoint_url).origin) {
    throw new RiskstreamError(
      'TRANSMITTER_SUPPLIED',
      "delivery.endpoint_url must keep its origin: the stream's aud is derived from it and cannot change (SSF 1.0 §8.1.1); create a new stream instead",
      { property: 'aud' },
    );
  }
  const next: SsfStream = {
    ...cur,
    ...(replace ? { description: undefined, authorization_header: undefined, events_requested: DEFAULT_EVENTS } : {}),
    ...(moved ? { authorization_header: undefined } : {}),
    ...fields,
  };
  // The configuration read back shows the stored header as "[set]": a read-modify-replace
  // (SSF 1.0 §8.1.1.4) that echoes it keeps the stored one (none once the endpoint moved).
  if (fields.authorization_header === MASKED_HEADER) next.authorization_header = moved ? undefined : cur.authorization_header;
  return next;
}

/**
 * A stream's status change asked by a caller. `byTransmitter`: the caller is not the stream's owner
 * (an admin). A status the transmitter set is not the receiver's to undo (SSF 1.0 §8.1.2.2):
 * FORBIDDEN for the owner unless it asks for the status the stream already has (unchanged).
 */
export function statusChange(cur: SsfStream, status: StreamStatus, reason: string | undefined, now: number, byTransmitter: boolean, admin: boolean): SsfStream {
  if (!byTransmitter && !admin && cur.status_by_transmitter) {
    if (status === cur.status) return cur;
    throw new RiskstreamError('FORBIDDEN', `stream ${cur.stream_id} was ${cur.status} by the transmitter: only it can change the status`);
  }
  return withStatus(cur, status, reason, now, byTransmitter);
}

/**
 * A stream with the subject `key` (the subject's {@link subjectKey}) added back (`add`) or removed.
 * The stream's own subject cannot be removed (FORBIDDEN: SSF 1.0 §8.1.3.3's 403); more than `max`
 * removed subjects is PAYLOAD_TOO_LARGE.
 */
export function subjectsChange(cur: SsfStream, subject: unknown, key: string, op: 'add' | 'remove', max: number): SsfStream {
  if (op === 'remove' && isStreamSubject(subject, cur.stream_id)) throw new RiskstreamError('FORBIDDEN', 'the subject of the stream itself cannot be removed');
  const removed = op === 'remove' ? [...new Set([...cur.removed_subjects, key])] : cur.removed_subjects.filter((x) => x !== key);
  if (removed.length > max) throw new RiskstreamError('PAYLOAD_TOO_LARGE', `a stream can have at most ${max} removed subjects`);
  return { ...cur, removed_subjects: removed };
}
