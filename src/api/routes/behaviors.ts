import type { RouteModule } from '../server.js';
import type { BehaviorsView } from '../views/console.js';

/** Settings every behavior has; the rest of its entry are its parameters. */
const BASE = new Set(['enabled', 'risk_level', 'expires_after', 'description', 'kind']);

/** `GET /v1/behaviors` (admin): the behavior configuration in force, for the console. */
export const behaviorsRoutes: RouteModule = (app, ctx) => {
  app.get('/v1/behaviors', async (): Promise<BehaviorsView> => {
    const cfg = ctx.config();
    return {
      files: cfg.files,
      behaviors: cfg.behaviors.map((b) => ({
        id: b.id,
        kind: b.kind,
        enabled: b.enabled,
        risk_level: b.risk_level,
        expires_after_ms: b.expires_after,
        ...(typeof b.params.description === 'string' ? { description: b.params.description } : {}),
        params: Object.fromEntries(Object.entries(b.params).filter(([k]) => !BASE.has(k))),
      })),
    };
  });
};
