import { RiskstreamError } from '../errors.js';
import { Invalid, toUser } from '../ingest/event-schema.js';

/** An optional integer query parameter in [1, `max`]; `def` when absent; BAD_REQUEST otherwise. */
export function intParam(v: string | undefined, name: string, def: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RiskstreamError('BAD_REQUEST', `${name} must be an integer from 1 to ${max}`);
  return n;
}

/** A user id from the path, normalised as at ingest (trimmed; emails lower-cased); BAD_REQUEST when empty. */
export function userParam(raw: string): string {
  const user = toUser(raw, 'user');
  if (user instanceof Invalid) throw new RiskstreamError('BAD_REQUEST', 'user is required');
  return user;
}
