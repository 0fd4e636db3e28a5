/**
 * What the audit log records of SSF stream management (src/ssf/stream-service.ts): one entry per
 * call that changed a stream, targeting the stream's receiver name ({@link streamReceiverName}), with
 * the stream id and what changed. Never its credential: the endpoint is shown as
 * {@link displayEndpoint} shows it (no user:password, no query values), a subject as its user (and session).
 */
import type { AuditEntry } from '../audit/audit-log.js';
import { displayEndpoint } from './display-endpoint.js';
import { subjectOfKey } from './subject-key.js';
import { streamReceiverName, type SsfStream, type StreamStatus } from './streams.js';

/** A stream created (`receiver.enabled`) or changed by an update (`receiver.changed`): its endpoint and events. */
export function streamWritten(action: 'receiver.enabled' | 'receiver.changed', s: SsfStream, actor: string): AuditEntry {
  return {
    action,
    actor,
    target: streamReceiverName(s.stream_id),
    details: { stream_id: s.stream_id, endpoint: displayEndpoint(s.endpoint_url), events: s.events_requested },
  };
}

/** A stream deleted (`receiver.disabled`, `deleted: true`). */
export function streamDeleted(id: string, actor: string): AuditEntry {
  return { action: 'receiver.disabled', actor, target: streamReceiverName(id), details: { stream_id: id, deleted: true } };
}

/** A stream's status set: `receiver.enabled` for `enabled`, else `receiver.disabled`, with the status before and the reason. */
export function streamStatusSet(id: string, status: StreamStatus, previous: StreamStatus, reason: string | undefined, actor: string): AuditEntry {
  return {
    action: status === 'enabled' ? 'receiver.enabled' : 'receiver.disabled',
    actor,
    target: streamReceiverName(id),
    details: { stream_id: id, status, previous, reason },
  };
}

/** A subject (its {@link subjectKey}) added to or removed from a stream: `receiver.subject_added` / `_removed`. */
export function streamSubject(id: string, key: string, op: 'add' | 'remove', actor: string): AuditEntry {
  const named = subjectOfKey(key);
  return {
    action: `receiver.subject_${op === 'add' ? 'added' : 'removed'}`,
    actor,
    target: streamReceiverName(id),
    details: { stream_id: id, subject: named.user, ...(named.session !== undefined ? { session: named.session } : {}) },
  };
}
