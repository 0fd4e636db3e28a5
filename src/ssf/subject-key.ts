import { RiskstreamError } from '../errors.js';
import { Invalid, toUser } from '../ingest/event-rules.js';

/**
 * A subject's user id normalised as ingest normalises `user` (trimmed, NFC, an email address
 * lower-cased): the key must equal the user SETs are sent for, however the receiver spells it
 * (docs/interfaces.md §2: the API normalises a user it is asked about the same way).
 */
function userKey(v: string): string {
  const u = toUser(v, 'subject');
  if (!(u instanceof Invalid)) return u;
  if (!v.trim()) throw new RiskstreamError('BAD_REQUEST', 'subject: must not be empty');
  return v; // too long (the caller's length check refuses it) or not well-formed (never a user's)
}

/** The key a subject is tracked by: the user id its email, opaque id or `sub` (of `iss_sub`, whatever the `iss`) names. */
export function subjectKey(subject: unknown): string {
  if (!subject || typeof subject !== 'object') throw new RiskstreamError('BAD_REQUEST', 'subject must be an RFC 9493 subject identifier object');
  const s = subject as Record<string, unknown>;
  const inner = (s.format === 'complex' ? s.user : s) as Record<string, unknown> | undefined;
  if (inner?.format === 'email' && typeof inner.email === 'string') return userKey(inner.email);
  if (inner?.format === 'opaque' && typeof inner.id === 'string') return userKey(inner.id);
  if (inner?.format === 'iss_sub' && typeof inner.sub === 'string') return userKey(inner.sub);
  throw new RiskstreamError('BAD_REQUEST', 'subject: supported formats are email, opaque, iss_sub (or complex with a user)');
}
