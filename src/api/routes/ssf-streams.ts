import type { FastifyRequest } from 'fastify';
import type { RouteModule } from '../server.js';
import type { ApiContext } from '../context.js';
import { RiskstreamError } from '../../errors.js';
import { knownSecretsOf, scrubAll } from '../../secrets/known-secrets.js';
import type { StreamLimits, StreamStatus } from '../../ssf/streams.js';
import { boundedString, parseStreamBody } from '../../ssf/stream-body.js';
import { streamCaller, type StreamCaller } from '../../ssf/stream-owner.js';
import type { StreamRequest, StreamService } from '../../ssf/stream-service.js';
import type { StreamRateLimit } from '../../ssf/stream-rate-limit.js';

type Req = FastifyRequest<{ Querystring: { stream_id?: string }; Body: Record<string, unknown> | undefined }>;

function streamId(req: Req, required = true): string | undefined {
  const inBody = typeof req.body?.stream_id === 'string' ? req.body.stream_id : undefined;
  // Both given and different: which stream is meant is unclear, so neither is acted on.
  if (req.query.stream_id !== undefined && inBody !== undefined && inBody !== req.query.stream_id)
    throw new RiskstreamError('BAD_REQUEST', 'stream_id in the query and in the body differ');
  const id = req.query.stream_id ?? inBody;
  if (!id && required) throw new RiskstreamError('BAD_REQUEST', 'stream_id is required');
  return id;
}

/** The caller: a digest of its token, and whether it is an admin token (admins see every stream). */
function caller(ctx: ApiContext, req: Req): StreamCaller {
  const header = req.headers.authorization;
  return streamCaller(header, ctx.tokens.check(header, 'admin') === 'ok');
}

/**
 * A create's body: `stream_id` is Transmitter-Supplied, generated at creation (SSF 1.0 §8.1.1: "A
 * Transmitter MUST generate a unique ID"). One given, in the body or the query, is refused rather
 * than ignored: the receiver would take the stream as created under its id.
 */
function createRequest(req: Req, limits: StreamLimits): StreamRequest {
  if (req.query.stream_id !== undefined || req.body?.stream_id !== undefined)
    throw new RiskstreamError('TRANSMITTER_SUPPLIED', 'stream_id is set by the transmitter when it creates the stream (SSF 1.0 §8.1.1): leave it out', {
      property: 'stream_id',
    });
  return streamRequest(req, false, limits);
}

/** The validated body of a create / update / replace. */
function streamRequest(req: Req, partial: boolean, limits: StreamLimits): StreamRequest {
  const fields = parseStreamBody(req.body, partial, limits);
  return { fields, body: req.body ?? {} };
}

/**
 * OpenID SSF 1.0 stream management (transmitter side, §8.1), for receivers that register
 * themselves: `/ssf/streams` (POST create, GET read, PATCH update, PUT replace, DELETE),
 * `/ssf/status` (GET, POST), `/ssf/subjects:add`, `/ssf/subjects:remove`, `/ssf/verify`. Bearer
 * tokens with the `ssf` scope (or admin). A stream belongs to the token that created it: other
 * ssf tokens get 404 for it. Streams live in Redis and receive SETs without a restart. The calls
 * that change something (and are audited) take from the ssf token's allowance first
 * (`ssf.limits.changes_per_second`: 429 `rate_limited`, nothing done, beyond); admin tokens and
 * reads are not limited.
 */
export const ssfStreamRoutes =
  (deps: { streams: StreamService; rate: StreamRateLimit }): RouteModule =>
  (app, ctx) => {
    const { streams, rate } = deps;
    const limits = (): StreamLimits => ctx.config().raw.ssf.limits;
    const opts = { config: { scope: 'ssf' as const } };
    // After the token check (the server's onRequest), before the body is read: a refused call costs one script call.
    const change = {
      ...opts,
      onRequest: async (req: Req): Promise<void> => {
        const c = caller(ctx, req);
        if (!c.admin) await rate.take(c.owner);
      },
    };

    // Stream configurations and status are per caller and change: never cached (as SSF §8.1's examples answer).
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.routeOptions.url?.startsWith('/ssf/')) reply.header('cache-control', 'no-store');
      return payload;
    });

    app.post('/ssf/streams', change, async (req: Req, reply) => {
      const s = await streams.create(createRequest(req, limits()), caller(ctx, req), req.actor);
      return reply.code(201).send(streams.view(s));
    });

    app.get('/ssf/streams', opts, async (req: Req) => {
      const id = streamId(req, false);
      if (id) return streams.view(await streams.get(id, caller(ctx, req)));
      return (await streams.list(caller(ctx, req))).map((s) => streams.view(s));
    });

    app.patch('/ssf/streams', change, async (req: Req) => {
      const id = streamId(req)!;
      return streams.view(await streams.update(id, streamRequest(req, true, limits()), caller(ctx, req), req.actor));
    });

    app.put('/ssf/streams', change, async (req: Req) => {
      const id = streamId(req)!;
      return streams.view(await streams.update(id, streamRequest(req, false, limits()), caller(ctx, req), req.actor, true));
    });

    app.delete('/ssf/streams', change, async (req: Req, reply) => {
      await streams.delete(streamId(req)!, caller(ctx, req), req.actor);
      return reply.code(204).send();
    });

    app.get('/ssf/status', opts, async (req: Req) => {
      const s = await streams.get(streamId(req)!, caller(ctx, req));
      return { stream_id: s.stream_id, status: s.status, ...(s.reason ? { reason: s.reason } : {}) };
    });

    app.post('/ssf/status', change, async (req: Req) => {
      const status = req.body?.status as StreamStatus;
      // Stored, audited, shown and sent to the stream's receiver in a stream-updated SET: a token
      // pasted into it is scrubbed as in every other reason (the worker's own tokens and receiver
      // credentials `[redacted token]`, others fingerprinted).
      const reason =
        req.body?.reason === undefined
          ? undefined
          : scrubAll(boundedString(req.body.reason, 'reason', limits().description_length), knownSecretsOf(ctx.config()));
      const s = await streams.setStatus(streamId(req)!, status, reason, caller(ctx, req), req.actor);
      return { stream_id: s.stream_id, status: s.status, ...(s.reason ? { reason: s.reason } : {}) };
    });

    // SSF §8.1.3.2: "the Event Transmitter responds with an empty 200 OK response".
    app.post('/ssf/subjects::add', change, async (req: Req, reply) => {
      // §8.1.3.2: `verified` is an optional boolean; another value is a malformed request, not "true".
      if (req.body?.verified !== undefined && typeof req.body.verified !== 'boolean')
        throw new RiskstreamError('BAD_REQUEST', 'verified must be true or false');
      await streams.subjects(streamId(req)!, req.body?.subject, 'add', caller(ctx, req), req.actor);
      return reply.code(200).send();
    });

    app.post('/ssf/subjects::remove', change, async (req: Req, reply) => {
      await streams.subjects(streamId(req)!, req.body?.subject, 'remove', caller(ctx, req), req.actor);
      return reply.code(204).send();
    });

    app.post('/ssf/verify', change, async (req: Req, reply) => {
      const state = req.body?.state === undefined ? undefined : boundedString(req.body.state, 'state', limits().state_length);
      await streams.verify(streamId(req)!, state, caller(ctx, req));
      return reply.code(204).send();
    });
  };
