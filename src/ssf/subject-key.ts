import { RiskstreamError } from '../errors.js';

/**
 * The key a subject is tracked by: its email, opaque id, or for `iss_sub` its `sub` when `iss` is
 * the issuer riskstream names users' subjects with (`issuer`; any when not given), else `iss|sub`
 * (a subject of another issuer: never one of riskstream's users).
 */
export function subjectKey(subject: unknown, issuer?: string): string {
  if (!subject || typeof subject !== 'object') throw new RiskstreamError('BAD_REQUEST', 'subject must be an RFC 9493 subject identifier object');
  const s = subject as Record<string, unknown>;
  const inner = (s.format === 'complex' ? s.user : s) as Record<string, unknown> | undefined;
  if (inner?.format === 'email' && typeof inner.email === 'string') return inner.email.toLowerCase();
  if (inner?.format === 'opaque' && typeof inner.id === 'string') return inner.id;
  if (inner?.format === 'iss_sub' && typeof inner.sub === 'string') {
    if (issuer === undefined || inner.iss === issuer) return inner.sub;
    return `${typeof inner.iss === 'string' ? inner.iss : ''}|${inner.sub}`;
  }
  throw new RiskstreamError('BAD_REQUEST', 'subject: supported formats are email, opaque, iss_sub (or complex with a user)');
}
