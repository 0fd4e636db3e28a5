import type { FastifyRequest } from 'fastify';
import type { RouteModule } from '../server.js';
import { service } from '../context.js';
import { RiskstreamError } from '../../errors.js';
import { parseStreamBody, type StreamStatus } from '../../ssf/streams.js';
import type { StreamService } from '../../ssf/stream-service.js';

type Req = FastifyRequest<{ Querystring: { stream_id?: string }; Body: Record<string, unknown> | undefined }>;

function streamId(req: Req, required = true): string | undefined {
  const id = req.query.stream_id ?? (typeof req.body?.stream_id === 'string' ? req.body.stream_id : undefined);
  if (!id && required) throw new RiskstreamError('BAD_REQUEST', 'stream_id is required');
  return id;
}

/**
 * OpenID SSF 1.0 stream management (transmitter side), for receivers that register themselves:
 * `/ssf/streams` (POST create, GET read, PATCH update, PUT replace, DELETE), `/ssf/status`
 * (GET, POST), `/ssf/subjects:add`, `/ssf/subjects:remove`, `/ssf/verify`. Bearer tokens with the
 * `ssf` scope (or admin). Streams live in Redis and receive SETs without a restart.
 */
export const ssfStreamRoutes: RouteModule = (app, ctx) => {
  const streams = (): StreamService => service<StreamService>(ctx, 'ssfStreams');
  const opts = { config: { scope: 'ssf' as const } };

  app.post('/ssf/streams', opts, async (req: Req, reply) => {
    const s = await streams().create(parseStreamBody(req.body, false), req.actor);
    return reply.code(201).send(streams().view(s));
  });

  app.get('/ssf/streams', opts, async (req: Req) => {
    const id = streamId(req, false);
    if (id) return streams().view(await streams().store.get(id));
    return (await streams().streams(true)).map((s) => streams().view(s));
  });

  app.patch('/ssf/streams', opts, async (req: Req) => {
    const id = streamId(req)!;
    return streams().view(await streams().update(id, parseStreamBody(req.body, true), req.actor));
  });

  app.put('/ssf/streams', opts, async (req: Req) => {
    const id = streamId(req)!;
    return streams().view(await streams().update(id, parseStreamBody(req.body, false), req.actor, true));
  });

  app.delete('/ssf/streams', opts, async (req: Req, reply) => {
    await streams().delete(streamId(req)!, req.actor);
    return reply.code(204).send();
  });

  app.get('/ssf/status', opts, async (req: Req) => {
    const s = await streams().store.get(streamId(req)!);
    return { stream_id: s.stream_id, status: s.status, ...(s.reason ? { reason: s.reason } : {}) };
  });

  app.post('/ssf/status', opts, async (req: Req) => {
    const status = req.body?.status as StreamStatus;
    const reason = typeof req.body?.reason === 'string' ? req.body.reason : undefined;
    const s = await streams().setStatus(streamId(req)!, status, reason, req.actor);
    return { stream_id: s.stream_id, status: s.status, ...(s.reason ? { reason: s.reason } : {}) };
  });

  app.post('/ssf/subjects::add', opts, async (req: Req, reply) => {
    await streams().subjects(streamId(req)!, req.body?.subject, 'add', req.actor);
    return reply.code(200).send({});
  });

  app.post('/ssf/subjects::remove', opts, async (req: Req, reply) => {
    await streams().subjects(streamId(req)!, req.body?.subject, 'remove', req.actor);
    return reply.code(204).send();
  });

  app.post('/ssf/verify', opts, async (req: Req, reply) => {
    const state = typeof req.body?.state === 'string' ? req.body.state : undefined;
    await streams().verify(streamId(req)!, state);
    return reply.code(204).send();
  });
};
