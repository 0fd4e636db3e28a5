import { normaliseName } from '../secrets/secret-names.js';

/** The fields of a stored session identity besides its claims (src/sessions/identity.ts), as a path's first name. */
const OUTSIDE_CLAIMS = new Set(['device', 'network', 'geo', 'ip', 'user', 'session', 'idp', 'attributes']);

/**
 * Why `name` cannot be a `sessions.redact_claims` entry, or undefined. The setting redacts the
 * session's claims (`session.claims`) only: a dotted path into another field of the identity
 * (`device.serial`, `network.asn`, `session.idp`) would redact nothing there — only claims that
 * happen to share its last name — so it is refused rather than silently ignored. A claim name, a
 * path under the claims (`claims.…`, `session.claims.…`, `address.street`) and a URI-named claim pass.
 */
export function redactClaimProblem(name: string): string | undefined {
  if (name.includes('/')) return undefined; // a URI-named claim is one name
  const path = name
    .split('.')
    .map((p) => normaliseName(p))
    .filter((p) => p !== '');
  if (path.length < 2 || !OUTSIDE_CLAIMS.has(path[0]!)) return undefined;
  if (path[0] === 'session' && path[1] === 'claims') return undefined;
  return (
    `"${name}" is a path into the session identity's ${path[0]}, not its claims: redact_claims redacts claims only (session.claims). ` +
    `For a claim so named write "claims.${name}"; to keep the ${path[0]} field out of riskstream list "${name}" in ingest.scrub_fields`
  );
}
