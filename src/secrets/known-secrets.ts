import { REDACTED_KNOWN, scrubText } from './secret-values.js';

/** Where a loaded config holds its secrets (src/config/load.ts's Config). */
export interface SecretsHolder {
  adminTokens?: readonly string[];
  ingestTokens?: readonly string[];
  ssfTokens?: readonly string[];
  metricsTokens?: readonly string[];
  receivers?: ReadonlyArray<{ authorizationValue?: string | undefined }>;
  /** Other secret values, taken as they are (an endpoint URL's password or query values). */
  extra?: readonly string[];
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
  const out = new Set<string>([
    ...(config.adminTokens ?? []),
    ...(config.ingestTokens ?? []),
    ...(config.ssfTokens ?? []),
    ...(config.metricsTokens ?? []),
    ...(config.extra ?? []),
  ]);
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

/** Each configuration's own secrets ({@link knownSecrets}), built once per loaded configuration (a reload loads a new one). */
const secretsOf = new WeakMap<SecretsHolder, string[]>();

/** {@link knownSecrets} of `config`, remembered for that object: the same list (and compiled pattern) on every call. */
export function knownSecretsOf(config: SecretsHolder): string[] {
  let secrets = secretsOf.get(config);
  if (!secrets) secretsOf.set(config, (secrets = knownSecrets(config)));
  return secrets;
}

/**
 * `s` with each of `secrets` it holds (in any case) replaced by {@link REDACTED_KNOWN} (see
 * {@link knownSecrets}): no fingerprint of the worker's own secrets, which may be low in entropy.
 */
export function scrubKnown(s: string, secrets: readonly string[]): string {
  if (!secrets.length) return s;
  return s.replace(patternOf(secrets), REDACTED_KNOWN);
}

/** One pattern per list of secrets (a config's list is built once: compiled once). */
const patterns = new WeakMap<readonly string[], RegExp>();

function patternOf(secrets: readonly string[]): RegExp {
  let re = patterns.get(secrets);
  if (!re) {
    // One pass, longest first at each position.
    re = new RegExp(secrets.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
    patterns.set(secrets, re);
  }
  return re;
}

/**
 * `v` (JSON data) with each of `secrets` in its strings replaced as by {@link scrubKnown}: `v`
 * itself when none is there (one search of its JSON text).
 */
export function scrubKnownDeep<T>(v: T, secrets: readonly string[]): T {
  if (!secrets.length || v === undefined) return v;
  const json = JSON.stringify(v);
  const re = patternOf(secrets);
  re.lastIndex = 0;
  if (!re.test(json)) return v;
  // Replaced in strings of the JSON text: a secret found there is a run of a string's characters
  // (a secret holding a quote or backslash, escaped in JSON, is not found: the tokens configured are not such).
  return JSON.parse(json.replace(re, REDACTED_KNOWN)) as T;
}

/** `s` with the worker's own secrets and anything token-shaped taken out (known secrets first: they may contain token-shaped runs). */
export function scrubAll(s: string, secrets: readonly string[]): string {
  return scrubText(scrubKnown(s, secrets));
}
