import type { RouteModule } from '../server.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ResolvedReceiver } from '../../config/receiver.js';
import { queueCounts, type SetQueue } from '../../ssf/queue.js';
import { displayEndpoint } from '../../ssf/display-endpoint.js';
import { receiverConcurrency } from '../../ssf/egress.js';
import { blankHealth, countQueued, deliveryHealth, isoOrNull } from '../receiver-health.js';
import type { ReceiversView } from '../views/console.js';
import { boundedString } from '../../ssf/stream-body.js';
import { knownSecretsOf, scrubAll } from '../../secrets/known-secrets.js';

const HEALTH_WINDOW_MS = 24 * 3_600_000;

/** What {@link receiversRoutes} uses. */
export interface ReceiversDeps {
  /** Config receivers plus enabled SSF streams. */
  receivers(): ResolvedReceiver[];
  setQueue: SetQueue;
  audit: AuditLog;
  /** Queues a verification SET to a configured receiver (src/ssf/receiver-verify.ts); its job id. */
  verify(name: string, state: string | undefined, actor: string): Promise<string>;
}

/**
 * `GET /v1/receivers` (admin): configured (and SSF-stream) receivers without secrets, with
 * delivery health from the audit log (last 24 h), per-receiver queue depth and each one's send cap
 * (`concurrency`: most sends in flight to it per worker). `POST /v1/receivers/{name}/verify`
 * (admin, body `{"state"}` optional, tokens in it scrubbed): 202, a verification SET queued to that
 * configured receiver.
 */
export const receiversRoutes =
  (deps: ReceiversDeps): RouteModule =>
  (app, ctx) => {
    app.get('/v1/receivers', async (): Promise<ReceiversView> => {
      const config = ctx.config();
      const configNames = new Set(config.receivers.map((r) => r.name));
      const all = deps.receivers();
      const since = Date.now() - HEALTH_WINDOW_MS;
      const window = await deliveryHealth(
        deps.audit,
        all.map((r) => r.name),
        since,
      );
      const health = window.health;
      let queue: Record<string, number> = {};
      try {
        queue = await queueCounts(deps.setQueue);
      } catch {
        queue = {};
      }
      const queued = await countQueued(deps.setQueue, health);
      const receivers = all.map((r) => ({
        name: r.name,
        source: configNames.has(r.name) ? ('config' as const) : ('ssf-stream' as const),
        // As the delivery worker caps it (src/ssf/deliver-job.ts): a stream's per-stream cap, a configured receiver's own or the default.
        concurrency: r.selfRegistered ? config.raw.ssf.per_stream_concurrency : receiverConcurrency(r, config.raw.delivery.concurrency),
        kind: r.kind,
        enabled: r.enabled,
        endpoint: displayEndpoint(r.endpoint),
        audience: r.audience,
        subject_format: r.subject_format,
        events: r.events,
        alg: r.alg,
        timeout_ms: r.timeout,
        rate_limit: r.rate_limit ?? null,
        authorization: r.authorizationValue ? ('set' as const) : ('none' as const),
        health: health.get(r.name) ?? blankHealth(),
      }));
      // Receivers seen in recent deliveries but no longer configured.
      const removed = [...health.entries()].filter(([name]) => !all.some((r) => r.name === name)).map(([name, h]) => ({ name, health: h }));
      return {
        receivers,
        removed,
        queue,
        window: {
          since: isoOrNull(since),
          entries: window.scanned,
          complete: window.complete,
          queue_jobs_scanned: queued.scanned,
          queue_truncated: queued.truncated,
        },
      };
    });

    app.post<{ Params: { name: string }; Body: { state?: unknown } | undefined }>('/v1/receivers/:name/verify', async (req, reply) => {
      const body = req.body;
      // Audited and sent to the receiver: a token pasted into it is scrubbed as in every reason (the
      // worker's own tokens and receiver credentials `[redacted token]`, others fingerprinted).
      const state =
        body?.state === undefined
          ? undefined
          : scrubAll(boundedString(body.state, 'state', ctx.config().raw.ssf.limits.state_length), knownSecretsOf(ctx.config()));
      const job = await deps.verify(req.params.name, state, req.actor);
      return reply.code(202).send({ receiver: req.params.name, job });
    });
  };
