import type { RouteModule } from '../server.js';

/** `/.well-known/jwks.json` and `/.well-known/ssf-configuration` (public). */
export const wellKnownRoutes =
  (deps: { jwks(): Promise<{ keys: unknown[] }> }): RouteModule =>
  (app, ctx) => {
    app.get('/.well-known/jwks.json', { config: { scope: 'public' } }, async (_req, reply) => {
      const jwks = await deps.jwks();
      return reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(jwks);
    });

    app.get('/.well-known/ssf-configuration', { config: { scope: 'public' } }, async () => {
      const cfg = ctx.config();
      const base = (cfg.raw.http.public_url ?? cfg.raw.issuer).replace(/\/+$/, '');
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
        authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
        default_subjects: 'ALL',
        critical_subject_members: ['user'],
      };
    });
  };
