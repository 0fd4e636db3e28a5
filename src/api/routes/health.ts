import type { RouteModule } from '../server.js';
import type { Readiness } from '../context.js';

/** What {@link healthRoutes} uses. */
export interface HealthDeps {
  readiness(): Promise<Readiness>;
  /** Prometheus exposition text (404 when absent). */
  metrics?(): Promise<{ contentType: string; body: string }>;
}

/** `/healthz` (process up), `/readyz` (Redis, consumer group, config, pipeline not stalled), `/metrics`. */
export const healthRoutes =
  (deps: HealthDeps): RouteModule =>
  (app) => {
    app.get('/healthz', { config: { scope: 'public' } }, async () => ({ status: 'ok' }));

    app.get('/readyz', { config: { scope: 'public' } }, async (_req, reply) => {
      const r = await deps.readiness();
      return reply.code(r.ok ? 200 : 503).send({
        status: r.ok ? 'ready' : 'not_ready',
        checks: r.checks,
        ...(r.reasons ? { reasons: r.reasons } : {}),
        ...(r.codes ? { codes: r.codes } : {}),
        ...(r.stalled ? { stalled: r.stalled } : {}),
      });
    });

    // Admin tokens and `metrics` tokens (Prometheus: http.metrics_tokens / RISKSTREAM_METRICS_TOKEN).
    app.get('/metrics', { config: { scope: 'metrics' } }, async (_req, reply) => {
      if (!deps.metrics) return reply.code(404).send({ error: 'not_found', message: 'metrics disabled' });
      const m = await deps.metrics();
      return reply.type(m.contentType).send(m.body);
    });
  };
