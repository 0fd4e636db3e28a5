import type { RouteModule } from '../server.js';

/** `/healthz` (process up), `/readyz` (Redis, consumer group, config, pipeline not stalled), `/metrics`. */
export const healthRoutes: RouteModule = (app, ctx) => {
  app.get('/healthz', { config: { scope: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { scope: 'public' } }, async (_req, reply) => {
    const r = await ctx.readiness();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not_ready', checks: r.checks, ...(r.reasons ? { reasons: r.reasons } : {}) });
  });

  // Admin tokens and `metrics` tokens (Prometheus: http.metrics_tokens / RISKSTREAM_METRICS_TOKEN).
  app.get('/metrics', { config: { scope: 'metrics' } }, async (_req, reply) => {
    if (!ctx.metrics) return reply.code(404).send({ error: 'not_found', message: 'metrics disabled' });
    const m = await ctx.metrics();
    return reply.type(m.contentType).send(m.body);
  });
};
