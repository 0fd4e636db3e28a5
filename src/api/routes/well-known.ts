import { RiskstreamError } from '../../errors.js';
import type { Config } from '../../config/load.js';
import type { RouteModule } from '../server.js';
import { trimTrailingSlashes } from '../../text.js';

/**
 * The transmitter's SSF configuration metadata (SSF 1.0 §7.1): endpoints under `http.public_url`, else
 * the issuer. `authorization_schemes` names OAuth 2.0 (RFC 6749: the CAEP Interoperability Profile 1.0
 * requires it) and its Bearer token usage (RFC 6750): the management API takes the access token in the
 * `Authorization` header only.
 */
function ssfMetadata(cfg: Config): Record<string, unknown> {
  const base = trimTrailingSlashes(cfg.raw.http.public_url ?? cfg.raw.issuer);
  return {
    spec_version: '1_0',
    issuer: cfg.raw.issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    delivery_methods_supported: ['urn:ietf:rfc:8935'],
    configuration_endpoint: `${base}/ssf/streams`,
    status_endpoint: `${base}/ssf/status`,
    add_subject_endpoint: `${base}/ssf/subjects:add`,
    remove_subject_endpoint: `${base}/ssf/subjects:remove`,
    verification_endpoint: `${base}/ssf/verify`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }, { spec_urn: 'urn:ietf:rfc:6750' }],
    default_subjects: 'ALL',
    critical_subject_members: ['user'],
  };
}

/** The issuer's path without a trailing slash ('' for an issuer at its host's root). */
function issuerPath(issuer: string): string {
  try {
    return trimTrailingSlashes(new URL(issuer).pathname);
  } catch {
    return '';
  }
}

/**
 * `/.well-known/jwks.json` and `/.well-known/ssf-configuration` (public). For an issuer with a path
 * (`https://host/t1`) the metadata is also at `/.well-known/ssf-configuration/t1`, where SSF 1.0
 * §7.2.1 has receivers look for it (the well-known segment between the host and the path).
 */
export const wellKnownRoutes =
  (deps: { jwks(): Promise<{ keys: unknown[] }> }): RouteModule =>
  (app, ctx) => {
    app.get('/.well-known/jwks.json', { config: { scope: 'public' } }, async (_req, reply) => {
      const jwks = await deps.jwks();
      return reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(jwks);
    });

    app.get('/.well-known/ssf-configuration', { config: { scope: 'public' } }, async () => ssfMetadata(ctx.config()));

    app.get('/.well-known/ssf-configuration/*', { config: { scope: 'public' } }, async (req) => {
      const cfg = ctx.config();
      const path = issuerPath(cfg.raw.issuer);
      // Trimmed in linear time: the path is the client's (a run of `/`s made the pattern quadratic).
      const asked = trimTrailingSlashes(`/${(req.params as { '*': string })['*']}`);
      if (!path || asked !== path) throw new RiskstreamError('NOT_FOUND', 'no SSF configuration for this issuer path');
      return ssfMetadata(cfg);
    });
  };
