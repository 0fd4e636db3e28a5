import type { Redis } from 'ioredis';
import type { Config, ResolvedReceiver } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { LevelChange } from '../types.js';
import type { RouteModule } from '../api/server.js';
import { KeyRing } from '../ssf/key-ring.js';
import { createSetQueue, enqueueLevelChange, type SetQueue } from '../ssf/queue.js';
import { startDeliveryWorker, type DeliveryWorker } from '../ssf/delivery-worker.js';
import { egressFromConfig } from '../ssf/egress.js';
import { displayEndpoint } from '../ssf/display-endpoint.js';
import type { ReceiverRegistry } from '../ssf/receivers.js';
import { wellKnownRoutes } from '../api/routes/well-known.js';
import { ssfStreamRoutes } from '../api/routes/ssf-streams.js';
import { createStreamService, type StreamService } from '../ssf/stream-service.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { configPath } from '../config/load.js';
import { generateKeyFiles } from '../ssf/keys.js';
import { isRiskstreamError } from '../errors.js';

/** The SET side of a process: signing keys, the delivery queue and (in the worker) its consumer. */
export interface SsfRuntime {
  keyRing: KeyRing;
  setQueue: SetQueue;
  registry: ReceiverRegistry;
  /** Receivers registered through the SSF stream management API. */
  streams: StreamService;
  /** Config receivers plus enabled SSF streams. */
  receivers(): ResolvedReceiver[];
  /** Queues one SET per receiver for each change (idempotent). */
  enqueueChanges(changes: LevelChange[]): Promise<void>;
  jwks(): Promise<{ keys: unknown[] }>;
  queueCounts(): Promise<Record<string, number>>;
  routes: RouteModule[];
  service: unknown;
  /** Re-reads keys and receivers after a config reload. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link buildSsf}. */
export interface SsfDeps {
  config: () => Config;
  redis: Redis;
  keys: Keys;
  audit: AuditLog;
  logger: Logger;
  metrics?: Metrics;
  /** Run the delivery worker in this process (false for one-shot CLI commands). */
  deliver?: boolean;
}

/** Builds the SET side: key ring from config, queue, receiver registry, delivery worker. */
export async function buildSsf(deps: SsfDeps): Promise<SsfRuntime> {
  await ensureSigningKey(deps);
  let keyRing = await KeyRing.fromConfig(deps.config());
  const setQueue = createSetQueue(deps.redis, deps.keys);
  const streams = createStreamService(deps.redis, deps.keys, setQueue, deps.audit, deps.config);
  await streams.streams(true);
  const receivers = (): ResolvedReceiver[] => [...deps.config().receivers, ...streams.receiversNow()];
  const registry: ReceiverRegistry = { get: (name) => receivers().find((r) => r.name === name) };
  // Keep the stream cache fresh for the (synchronous) registry: other workers' changes show up
  // (one read of the change stream a second; only changed streams are re-read).
  const refresh = setInterval(() => void streams.streams().catch(() => undefined), 1000);
  refresh.unref();
  await auditReceivers(deps);
  let worker: DeliveryWorker | undefined;
  const start = (): void => {
    const cfg = deps.config();
    worker = startDeliveryWorker({
      connection: deps.redis,
      keys: deps.keys,
      registry,
      keyRing,
      issuer: cfg.raw.issuer,
      audit: deps.audit,
      delivery: cfg.raw.delivery,
      egress: egressFromConfig(cfg.raw.ssf, cfg.raw.delivery.concurrency),
      logger: deps.logger,
      onOutcome: (receiver, outcome) => deps.metrics?.deliveries.inc({ receiver, outcome }),
    });
  };
  if (deps.deliver !== false) start();
  const rt: SsfRuntime = {
    get keyRing() {
      return keyRing;
    },
    setQueue,
    registry,
    streams,
    receivers,
    enqueueChanges: async (changes) => {
      const configured = deps.config().receivers;
      for (const c of changes) await enqueueLevelChange(setQueue, c, configured);
      await streams.onChanges(changes);
    },
    jwks: async () => keyRing.jwks() as { keys: unknown[] },
    queueCounts: async () => setQueue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
    routes: [wellKnownRoutes, ssfStreamRoutes],
    service: undefined,
    reload: async () => {
      const next = await KeyRing.fromConfig(deps.config());
      for (const k of keyRing.jwks().keys) if (!next.jwks().keys.some((n) => n.kid === k.kid)) next.addRetired(k, Date.now() + 7 * 86_400_000);
      keyRing = next;
      await auditReceivers(deps);
      if (worker) {
        await worker.close();
        start();
      }
    },
    close: async () => {
      clearInterval(refresh);
      await worker?.close();
      await setQueue.close();
    },
  };
  rt.service = rt;
  return rt;
}

/** Non-secret fingerprint of a receiver's settings. */
function fingerprint(r: ResolvedReceiver): string {
  const { authorizationValue, authorization, ...rest } = r;
  void authorization;
  return createHash('sha256').update(JSON.stringify({ ...rest, auth: authorizationValue ? 'set' : 'none' })).digest('hex').slice(0, 16);
}

/**
 * Audits configured receivers that were added, changed or removed since the last start or reload
 * (`receiver.enabled` / `receiver.changed` / `receiver.disabled`), so enabling sharing shows in
 * the audit log. Known receivers are remembered in Redis.
 */
async function auditReceivers(deps: SsfDeps): Promise<void> {
  const key = deps.keys.receiversKnown;
  const known = await deps.redis.hgetall(key);
  const now = new Map(deps.config().receivers.map((r) => [r.name, r]));
  for (const [name, r] of now) {
    const fp = fingerprint(r);
    if (known[name] === fp) continue;
    const action = known[name] === undefined ? (r.enabled ? 'receiver.enabled' : 'receiver.disabled') : 'receiver.changed';
    await deps.audit.write({ action, actor: 'config', target: name, details: { kind: r.kind, endpoint: displayEndpoint(r.endpoint), audience: r.audience, events: r.events, enabled: r.enabled } });
    await deps.redis.hset(key, name, fp);
  }
  for (const name of Object.keys(known)) {
    if (now.has(name)) continue;
    await deps.audit.write({ action: 'receiver.disabled', actor: 'config', target: name, details: { removed: true } });
    await deps.redis.hdel(key, name);
  }
}

/**
 * First start without a key: generates `signing.key_file` (0600; its public JWK beside it) so a
 * fresh install works; several workers starting at once settle on one file (exclusive create).
 */
async function ensureSigningKey(deps: SsfDeps): Promise<void> {
  const cfg = deps.config();
  const file = configPath(cfg, cfg.raw.signing.key_file);
  if (existsSync(file)) return;
  if (!file.endsWith('.pem')) return; // a JWK file: the operator's to provide
  try {
    const g = await generateKeyFiles(cfg.raw.signing.alg, dirname(file), basename(file, '.pem'));
    deps.logger.warn({ file, alg: g.alg, kid: g.kid }, 'no signing key found: generated one (publish /.well-known/jwks.json to receivers)');
  } catch (err) {
    if (!isRiskstreamError(err) || !existsSync(file)) throw err; // another worker won the race
  }
}
