import { charCount } from '../text.js';
import { scrubAll } from '../secrets/known-secrets.js';
import { RiskstreamError } from '../errors.js';
import { Invalid, toUser } from '../ingest/event-schema.js';
import { RISK_LEVELS, parseLevel, type RiskLevel } from '../types.js';

/**
 * An optional integer query parameter, decimal digits only, in [1, `max`]; `def` when absent or
 * empty; BAD_REQUEST otherwise (`0x10`, `1e2`, `+5` too: every route reads `limit` alike).
 */
export function intParam<D extends number | undefined>(v: string | undefined, name: string, def: D, max: number): number | D {
  if (v === undefined || v === '') return def;
  const n = /^\d{1,9}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= max)) throw new RiskstreamError('BAD_REQUEST', `${name} must be an integer from 1 to ${max}`);
  return n;
}

/**
 * An optional `level` query parameter, in any case (`?level=HIGH`, as SETs spell levels, is
 * `high`); undefined when absent or empty (no filter); BAD_REQUEST for a word that is no level.
 */
export function levelParam(v: string | undefined): RiskLevel | undefined {
  if (v === undefined || v === '') return undefined;
  const level = parseLevel(v);
  if (!level) throw new RiskstreamError('BAD_REQUEST', `level must be one of ${RISK_LEVELS.join(', ')}`);
  return level;
}

/** A user id from the path, normalised as at ingest (trimmed; emails lower-cased); BAD_REQUEST when empty or too long. */
export function userParam(raw: string): string {
  const user = toUser(raw, 'user');
  if (user instanceof Invalid) throw new RiskstreamError('BAD_REQUEST', user.message); // "user: must not be empty", "user: longer than 1024 characters"
  return user;
}

const U64_MAX = 18446744073709551615n;

/**
 * A stream entry id cursor (`ms-seq`, each part within 64 bits, as Redis's ids): undefined when
 * absent or empty, null for `0-0` (nothing comes before it: an empty page), BAD_REQUEST otherwise.
 */
export function streamIdCursor(v: string | undefined): string | undefined | null {
  if (v === undefined || v === '') return undefined;
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(v);
  const [ms, seq] = m ? [BigInt(m[1]!), BigInt(m[2]!)] : [-1n, -1n];
  if (!m || ms > U64_MAX || seq > U64_MAX) throw new RiskstreamError('BAD_REQUEST', 'invalid cursor');
  return ms === 0n && seq === 0n ? null : `${ms}-${seq}`;
}

/** Longest admin reason (revoke, reset): what the control stream and the audit log take. */
export const MAX_REASON = 500;

/**
 * An admin action's reason from a JSON body `{reason}` (or `?reason=`): `def` when absent or empty;
 * BAD_REQUEST for a body that is not a JSON object, a reason that is not a string or is longer
 * than {@link MAX_REASON}. No body at all is fine.
 */
export function reasonParam(body: unknown, query: unknown, def: string, known: readonly string[] = []): string {
  if (body !== undefined && body !== null && body !== '' && (typeof body !== 'object' || Array.isArray(body))) {
    throw new RiskstreamError('BAD_REQUEST', 'the body must be a JSON object such as {"reason": "…"}');
  }
  const fromBody = body && typeof body === 'object' ? (body as Record<string, unknown>).reason : undefined;
  const r = fromBody ?? (query && typeof query === 'object' ? (query as Record<string, unknown>).reason : undefined);
  // A blank reason is none: "  " would be audited and sent in SETs' reason_admin as it is.
  if (r === undefined || r === null || (typeof r === 'string' && r.trim() === '')) return def;
  if (typeof r !== 'string') throw new RiskstreamError('BAD_REQUEST', 'reason must be a string');
  if (charCount(r) > MAX_REASON) throw new RiskstreamError('BAD_REQUEST', `reason must be at most ${MAX_REASON} characters`);
  // A token pasted into the note ("phished, token was eyJ…") is fingerprinted, as everywhere: the
  // reason is audited and sent to every receiver in SETs. The worker's own tokens, whatever their
  // shape, are taken out without a fingerprint (`known`: see src/secrets/known-secrets.ts).
  return scrubAll(r, known);
}
