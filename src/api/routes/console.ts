/**
 * The admin console's prebuilt static files at `/console/` (public: the page holds no data).
 * Its JSON routes live beside this file: console-users.ts (`/v1/console/users`), receivers.ts
 * (`/v1/receivers`), behaviors.ts (`/v1/behaviors`) and deliveries.ts
 * (`/v1/users/{user}/deliveries`); their response types are in src/api/views/console.ts.
 *
 * The console is built by `npm run build:console` (web/ → console-dist/, committed), so the
 * worker serves it without a build step at run time.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError, type RouteModule } from '../server.js';
import { CONSOLE_DIST, loadConsoleFiles, sendStatic } from '../console-files.js';
import { displayEndpoint } from '../../ssf/display-endpoint.js';

/** Re-exported: the built console's location and loader (src/api/console-files.ts). */
export { CONSOLE_DIST, loadConsoleFiles };

/** Re-exported: the one display form of receiver URLs (src/ssf/display-endpoint.ts). */
export { displayEndpoint };

/** Builds the route module serving the console built into `dir`. */
export function consoleRoutesFrom(dir: string = CONSOLE_DIST): RouteModule {
  return (app) => {
    const files = loadConsoleFiles(dir);
    const serve = (req: FastifyRequest, reply: FastifyReply, path: string): FastifyReply => {
      if (!files.size) return sendError(reply, 404, 'not_found', 'the admin console is not built: run npm run build:console');
      const f = files.get(path === '' ? 'index.html' : path);
      if (!f) return sendError(reply, 404, 'not_found', `no console file ${path}`);
      return sendStatic(req, reply, f);
    };

    app.get('/console', { config: { scope: 'public' } }, async (req, reply) => {
      // Relative asset URLs need the trailing slash; a relative redirect also works behind a
      // reverse proxy that adds a path prefix.
      if (!req.url.split('?')[0]!.endsWith('/')) return reply.redirect('console/', 302);
      return serve(req, reply, '');
    });
    app.get<{ Params: { '*': string } }>('/console/*', { config: { scope: 'public' } }, async (req, reply) => serve(req, reply, req.params['*'] ?? ''));
  };
}

/** The console's static files, served from `console-dist/`. */
export const consoleRoutes: RouteModule = consoleRoutesFrom();
