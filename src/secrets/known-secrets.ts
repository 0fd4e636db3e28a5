import { REDACTED_KNOWN, scrubText } from './secret-values.js';

/** Where a loaded config holds its secrets (src/config/load.ts's Config). */
export interface SecretsHolder {
  adminTokens?: readonly string[];
  ingestTokens?: readonly string[];
  ssfTokens?: readonly string[];
  metricsTokens?: readonly string[];
  receivers?: ReadonlyArray<{ authorizationValue?: string | undefined }>;
}

/** Shortest secret looked for by value (shorter ones would match ordinary words). */
const MIN_KNOWN = 8;

/**
 * The worker's own secrets, as configured: every API token (admin, ingest, ssf, metrics) and each
 * receiver's Authorization value (and its credential without the scheme). A value that does not
 * look like a token (`openssl rand -hex 32`, `ADMINTOKEN-…`) escapes the shape-based scrubber; these
 * are then found by value.
 */
export function knownSecrets(config: SecretsHolder): string[] {
  const out = new Set<string>([...(config.adminTokens ?? []), ...(config.ingestTokens ?? []), ...(config.ssfTokens ?? []), ...(config.metricsTokens ?? [])]);
  for (const r of config.receivers ?? []) {
    const v = r.authorizationValue;
    if (!v) continue;
    out.add(v);
    const credential = /^\S+\s+(\S.*)$/.exec(v)?.[1];
    if (credential) out.add(credential);
  }
  // Longest first: a token that holds another is replaced whole.
  return [...out].filter((s) => s.length >= MIN_KNOWN).sort((a, b) => b.length - a.length);
}

/**
 * `s` with each of `secrets` it holds (in any case) replaced by {@link REDACTED_KNOWN} (see
 * {@link knownSecrets}): no fingerprint of the worker's own secrets, which may be low in entropy.
 */
export function scrubKnown(s: string, secrets: readonly string[]): string {
  if (!secrets.length) return s;
  // One pass, longest first at each position.
  const re = new RegExp(secrets.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  return s.replace(re, REDACTED_KNOWN);
}

/** `s` with the worker's own secrets and anything token-shaped taken out (known secrets first: they may contain token-shaped runs). */
export function scrubAll(s: string, secrets: readonly string[]): string {
  return scrubText(scrubKnown(s, secrets));
}
