import { createHmac } from 'node:crypto';
import { RiskstreamError } from '../errors.js';

/**
 * Who calls the stream management API: `owner` is a stable digest of the bearer token (the
 * token itself is never stored); `admin` callers see and manage every stream, including
 * streams created before ownership existed (stored without an owner).
 */
export interface StreamCaller {
  owner: string;
  admin: boolean;
}

/** Domain label of the owner digest, so it never equals another digest of the same token. */
const LABEL = 'riskstream/ssf-stream-owner/v1';

/** The owner id of a bearer token: HMAC-SHA-256 under a fixed label, 128 bits in hex. */
export function streamOwner(token: string): string {
  return createHmac('sha256', LABEL).update(token).digest('hex').slice(0, 32);
}

/** The caller of a request from its `Authorization: Bearer …` header. */
export function streamCaller(authorization: string | undefined, admin: boolean): StreamCaller {
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!m) throw new RiskstreamError('UNAUTHORIZED', 'a bearer token is required');
  return { owner: streamOwner(m[1]!), admin };
}

/** True when `caller` may see and change a stream owned by `owner` (undefined: a legacy stream). */
export function mayAccess(caller: StreamCaller, owner: string | undefined): boolean {
  return caller.admin || (owner !== undefined && owner === caller.owner);
}

/**
 * The owner ids of the tokens configured now (ssf and admin tokens: either may create streams). A
 * stream whose owner is not among them was created with a token since removed: nothing is sent to
 * it until that token is configured again.
 */
export function ownersOf(tokens: readonly string[]): Set<string> {
  return new Set(tokens.map(streamOwner));
}

/**
 * The owner ids among `configured` that own one of `streams` (sorted): what a worker records as
 * the tokens it has (src/ssf/receivers-on.ts). Only these: the digest of a token that owns no
 * stream (an admin token that never created one) is not written to Redis, where a guessable
 * token could be found again from it by trying candidates (the label is public).
 */
export function ownersWithStreams(configured: ReadonlySet<string>, streams: readonly { owner?: string }[]): string[] {
  const owned = new Set<string>();
  for (const s of streams) if (s.owner !== undefined && configured.has(s.owner)) owned.add(s.owner);
  return [...owned].sort();
}

/** A configuration's tokens that may create streams (ssf and admin tokens). */
type StreamTokens = { ssfTokens: readonly string[]; adminTokens: readonly string[] };

const byConfig = new WeakMap<StreamTokens, ReadonlySet<string>>();

/**
 * The owner ids of a configuration's tokens that may create streams (ssf and admin tokens),
 * computed once per configuration object (a reload makes a new one).
 */
export function configOwners(c: StreamTokens): ReadonlySet<string> {
  let o = byConfig.get(c);
  if (!o) byConfig.set(c, (o = ownersOf([...c.ssfTokens, ...c.adminTokens])));
  return o;
}
