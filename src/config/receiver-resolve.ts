import { isHeaderValue } from '../net/header-value.js';
import { trimTrailingSlashes } from '../text.js';
import type { ResolvedReceiver } from './receiver.js';
import { RECEIVER_EVENTS, receiverSchema, type ReceiverConfig } from './receiver-schema.js';
import type { SigningAlg } from '../types.js';
import type { RiskstreamFileConfig } from './schema.js';
import type { ConfigIssue } from './yaml-source.js';

/** Where a problem at `path` is (its node in the parsed file, else the file's start). */
export type Locator = (path: readonly PropertyKey[]) => { line: number; col: number };

/**
 * Environment variable `name`, undefined when unset or empty: an empty credential (a compose file's
 * unset `${TOKEN}`, `Environment=TOKEN=`) would send SETs with no or a bare `Bearer ` authorization.
 */
function credentialVar(name: string): string | undefined {
  const v = process.env[name];
  return v === '' ? undefined : v;
}

/**
 * `value` with each `${NAME}` in it replaced by that environment variable (`Bearer ${TOKEN}`), or the
 * whole value `env:NAME`; undefined (an issue) when a variable named is not set or empty. `$${NAME}`
 * stays a literal `${NAME}`.
 */
function expandEnv(value: string, what: string, issue: (message: string) => void): string | undefined {
  const whole = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (whole) {
    const v = credentialVar(whole[1]!);
    if (v === undefined) issue(`${what}: environment variable ${whole[1]} is not set (or empty)`);
    return v;
  }
  let missing = false;
  const out = value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (ref: string, name: string) => {
    if (ref.startsWith('$$')) return ref.slice(1);
    const v = credentialVar(name);
    if (v === undefined) {
      missing = true;
      issue(`${what}: environment variable ${name} is not set (or empty)`);
    }
    return v ?? '';
  });
  return missing ? undefined : out;
}

/**
 * The receivers of `raw` with their defaults filled in (Okta's endpoint and audience from `org_url`,
 * events, alg) and their authorization read from the environment; problems go to `issues`. `secrets` false (the
 * one-shot commands, which send no SET): a credential's variable that is not set is no problem, the
 * receiver kept without its credential.
 */
export function resolveReceivers(raw: RiskstreamFileConfig, file: string, issues: ConfigIssue[], at: Locator, secrets = true): ResolvedReceiver[] {
  return resolveEntries(
    raw.receivers.map((r, i) => [i, r] as const),
    raw.signing.alg,
    file,
    issues,
    at,
    secrets,
  );
}

/**
 * The checks of {@link resolveReceivers} on a `receivers` section that failed the schema: each entry
 * that parses on its own is checked, so its problems show in the same run as the section's own.
 */
export function checkReceiverEntries(section: unknown, file: string, issues: ConfigIssue[], at: Locator, secrets = true): void {
  if (!Array.isArray(section)) return;
  const entries = section.flatMap((e: unknown, i) => {
    const r = receiverSchema.safeParse(e);
    return r.success ? [[i, r.data] as const] : [];
  });
  resolveEntries(entries, 'ES256', file, issues, at, secrets);
}

/** {@link resolveReceivers} of the entries given with their index in the file; `alg` the main signing key's. */
function resolveEntries(
  entries: ReadonlyArray<readonly [number, ReceiverConfig]>,
  alg: SigningAlg,
  file: string,
  issues: ConfigIssue[],
  at: Locator,
  secrets: boolean,
): ResolvedReceiver[] {
  const seen = new Set<string>();
  const out: ResolvedReceiver[] = [];
  entries.forEach(([i, r]) => {
    const issue = (key: string | undefined, message: string): void =>
      void issues.push({ file, ...at(key === undefined ? ['receivers', i] : ['receivers', i, key]), message });
    // An unset credential variable is an issue only where the credential is used.
    const unset = (key: string, message: string): void => (secrets ? issue(key, message) : undefined);
    if (seen.has(r.name)) issue('name', `receivers[${i}]: duplicate name "${r.name}"`);
    seen.add(r.name);
    const org = r.org_url === undefined ? undefined : trimTrailingSlashes(r.org_url);
    const endpoint = r.endpoint ?? (r.kind === 'okta' && org ? `${org}/security/api/v1/security-events` : undefined);
    if (!endpoint) {
      issue(undefined, `receivers[${i}] (${r.name}): endpoint is required (or org_url for kind okta)`);
      return;
    }
    if (!/^https?:$/.test(new URL(endpoint).protocol)) {
      issue(r.endpoint ? 'endpoint' : 'org_url', `receivers[${i}] (${r.name}): endpoint must be an https (or http) URL`);
      return;
    }
    // Okta's `aud` is the org URL (SSF.md): `org_url`, else the origin of its endpoint (`{org}/security/api/v1/security-events`).
    const audience = r.audience ?? (r.kind === 'okta' ? (org ?? new URL(endpoint).origin) : endpoint);
    let authorizationValue: string | undefined;
    // Both: which one is sent would be left unsaid (the variable's was, the file's dropped unseen).
    if (r.authorization_env !== undefined && r.authorization !== undefined)
      issue('authorization_env', `receivers[${i}] (${r.name}): set authorization or authorization_env, not both`);
    if (r.authorization_env) {
      authorizationValue = credentialVar(r.authorization_env);
      if (authorizationValue === undefined) {
        unset('authorization_env', `receivers[${i}] (${r.name}): environment variable ${r.authorization_env} is not set (or empty)`);
      }
    } else if (r.authorization) {
      authorizationValue = expandEnv(r.authorization, `receivers[${i}].authorization`, (m) => unset('authorization', m));
    }
    // Checked after expansion (the value itself is a secret: never in the message).
    if (authorizationValue !== undefined && !isHeaderValue(authorizationValue))
      issue(
        r.authorization_env ? 'authorization_env' : 'authorization',
        `receivers[${i}] (${r.name}): authorization must be printable ASCII (no control characters)`,
      );
    out.push({
      ...r,
      endpoint,
      audience,
      events: r.events ?? [...RECEIVER_EVENTS],
      // Okta's ITP examples sign RS256; any other receiver gets the main signing key's alg.
      alg: r.alg ?? (r.kind === 'okta' ? 'RS256' : alg),
      ...(authorizationValue !== undefined ? { authorizationValue } : {}),
    });
  });
  return out;
}
