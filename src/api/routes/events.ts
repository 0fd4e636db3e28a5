import type { RouteModule } from '../server.js';
import { RiskstreamError } from '../../errors.js';
import type { IngestService } from '../../ingest/http-ingest.js';
import { clientGone } from '../client-gone.js';

/**
 * `POST /v1/events` — NDJSON, a JSON array or one object (gzip/deflate/br too), as Vector's and
 * Fluent Bit's http outputs send them. Good events are XADDed to their stream in one pipeline,
 * bad ones to the dead-letter stream; 202 `{accepted, rejected, errors}`; 429 under back-pressure.
 * `?profile=okta|entra|cloudtrail|generic:<name>`: every record is mapped with that profile.
 */
export const eventsRoutes =
  (deps: { ingest: IngestService }): RouteModule =>
  (app, ctx) => {
    // Take the raw body for every content type: parsing (and decompression) is ours.
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      // Before the body is read (after the token check): a body beyond what the worker takes —
      // as many arriving, waiting or decoded already — is answered 429 at once and never held; the
      // connection is closed rather than its body read. (Back-pressure needs Redis: in the handler,
      // under http.redis_timeout.)
      scope.addHook('preParsing', async (_req, reply, payload) => {
        try {
          reply.raw.once('close', deps.ingest.admit());
        } catch (err) {
          reply.header('Connection', 'close');
          throw err;
        }
        return payload;
      });
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config().raw.http.body_limit }, (_req, body, done) => done(null, body));
      scope.post<{ Querystring: { profile?: string } }>('/v1/events', { config: { scope: 'ingest' } }, async (req, reply) => {
        const { ingest } = deps;
        // Stops the body once its client is gone (a shipper that timed out resends it all) or it was answered 503.
        const gone = clientGone(reply);
        const signal = req.redisDeadline ? AbortSignal.any([req.redisDeadline, gone]) : gone;
        await ingest.checkBackpressure();
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (body.length === 0) throw new RiskstreamError('BAD_REQUEST', 'empty body: send NDJSON, a JSON array or a JSON object');
        const profile = typeof req.query.profile === 'string' && req.query.profile !== '' ? req.query.profile : undefined;
        const r = await ingest.accept(
          body,
          { contentType: req.headers['content-type'], contentEncoding: req.headers['content-encoding'] },
          { profile, signal },
        );
        return reply.code(202).send(r);
      });
    });
  };
