import { RiskstreamError } from '../errors.js';

/** The key a subject is tracked by: its email, opaque id, or `iss|sub`. */
export function subjectKey(subject: unknown): string {
  if (!subject || typeof subject !== 'object') throw new RiskstreamError('BAD_REQUEST', 'subject must be an RFC 9493 subject identifier object');
  const s = subject as Record<string, unknown>;
  const inner = (s.format === 'complex' ? s.user : s) as Record<string, unknown> | undefined;
  if (inner?.format === 'email' && typeof inner.email === 'string') return inner.email.toLowerCase();
  if (inner?.format === 'opaque' && typeof inner.id === 'string') return inner.id;
  if (inner?.format === 'iss_sub' && typeof inner.sub === 'string') return String(inner.sub);
  throw new RiskstreamError('BAD_REQUEST', 'subject: supported formats are email, opaque, iss_sub (or complex with a user)');
}
