import type { ResolvedReceiver } from '../config/receiver.js';
import { forgetReceiverDeliveries } from '../ssf/forget-receiver.js';
import type { LevelChange } from '../types.js';
import { KeyRing } from '../ssf/key-ring.js';
import { openSigningKeys } from '../ssf/signing-keys.js';
import { createSetQueue, enqueueLevelChanges, queueCounts, type SetQueue } from '../ssf/queue.js';
import type { ReceiverRegistry } from '../ssf/receivers.js';
import type { StreamService } from '../ssf/stream-service.js';
import { createStreamService } from '../ssf/stream-service-factory.js';
import { StreamRateLimit } from '../ssf/stream-rate-limit.js';
import { auditReceivers } from '../ssf/receiver-audit.js';
import { enabledOnLiveWorker, forgetReceiversOn, recordReceiversOn } from '../ssf/receivers-on.js';
import { configOwners, ownersWithStreams } from '../ssf/stream-owner.js';
import { earlyEnqueue } from '../ssf/early-enqueue.js';
import { promoterOfGone } from '../ssf/promote-removed.js';
import { verifyReceiver } from '../ssf/receiver-verify.js';
import { within } from './readiness.js';
import { DeliveryHost, type DeliveryHostDeps } from './ssf-delivery.js';

/** How long a JWKS request waits for the published keys' re-read before it serves the last read (ms). */
const JWKS_REREAD_MS = 1000;

/** The SET side of a process: signing keys, the delivery queue and (in the worker) its consumer. */
export interface SsfRuntime {
  keyRing: KeyRing;
  setQueue: SetQueue;
  registry: ReceiverRegistry;
  /** Receivers registered through the SSF stream management API. */
  streams: StreamService;
  /** The per-token allowance of state-changing stream management calls (`ssf.limits.changes_per_second`). */
  streamRate: StreamRateLimit;
  /** Config receivers plus enabled SSF streams. */
  receivers(): ResolvedReceiver[];
  /** Queues a verification SET to a configured receiver (an admin's check; src/ssf/receiver-verify.ts); its job id. */
  verifyReceiver(name: string, state: string | undefined, actor: string): Promise<string>;
  /** Queues one SET per receiver for each change (idempotent); holds them for paused streams. */
  enqueueChanges(changes: LevelChange[]): Promise<void>;
  /**
   * Queues the SETs of changes just committed, at once, on a connection of its own (not behind the
   * commits' pipelines nor the outbox relay's round trips), for the configured receivers and
   * the enabled SSF streams; {@link enqueueChanges} then skips the configured receivers for these
   * changes. Never throws (on failure the relay enqueues them as before).
   */
  enqueueCommitted(changes: LevelChange[]): void;
  jwks(): Promise<{ keys: unknown[] }>;
  queueCounts(): Promise<Record<string, number>>;
  /** Refuses (KEY_INVALID) a key ring whose kid names another key still published: checked before a reload is applied. */
  checkKeys(ring: KeyRing): Promise<void>;
  /**
   * The owner ids this worker records as its tokens' (src/ssf/receivers-on.ts): those of its
   * configured tokens that own a stream, as of its last record.
   */
  ownersOn(): string[];
  /**
   * Takes a config reload's keys (`ring`, as the reload checked them; read from the files when not
   * given) and receivers; starts no delivery worker again once `cancelled()` (a drain begun).
   */
  reload(cancelled?: () => boolean, ring?: KeyRing): Promise<void>;
  /** Stops SET delivery: sends in flight get `waitMs` at most (default 15 s), then are aborted and retried later. */
  close(waitMs?: number): Promise<void>;
  /** Bounds the wait of a delivery close under way (a reload restarting it as a drain begins) to `waitMs` from now. */
  hurry(waitMs: number): void;
  /** Stops SET delivery at once (a drain past its deadline): nothing is sent after it. */
  terminate(): void;
}

/** Options of {@link buildSsf}: the connections and config the delivery worker is started with, and: */
export interface SsfDeps extends Omit<DeliveryHostDeps, 'registry' | 'ring'> {
  /** Run the delivery worker in this process (false for one-shot CLI commands). */
  deliver?: boolean;
  /**
   * Audit the configured receivers added, changed or removed since they were last audited (default
   * true). False for one-shot CLI commands: they run no receiver, and read the files as they are now —
   * perhaps edited and not reloaded — so the audit log would show a change no worker made.
   */
  auditReceivers?: boolean;
  /** The worker's id: its enabled receivers are recorded under it (src/ssf/receivers-on.ts). */
  workerId?: string;
}

/** Builds the SET side: key ring from config, queue, receiver registry, delivery worker. */
export async function buildSsf(deps: SsfDeps): Promise<SsfRuntime> {
  // Workers only: a one-shot CLI command signs nothing, so it writes no key file and publishes nothing.
  const signing = await openSigningKeys({ config: deps.config, redis: deps.redis, keys: deps.keys, logger: deps.logger, publishes: deps.deliver !== false });
  const setQueue = createSetQueue(deps.redis, deps.keys, { writesMeta: deps.deliver !== false });
  const early = earlyEnqueue(deps, (queue, changes) =>
    enqueueLevelChanges(queue, changes, deps.config().receivers).then(() => streams.onChanges(changes, 'enabled', queue)),
  );
  const streams = createStreamService(deps.redis, deps.keys, setQueue, deps.audit, deps.config);
  await streams.streams(true);
  const receivers = (): ResolvedReceiver[] => [...deps.config().receivers, ...streams.receiversNow()];
  // A job may name a stream another worker has just created or enabled: the delivery worker
  // re-reads the streams before it gives up on a receiver unknown or disabled here.
  const registry: ReceiverRegistry = {
    get: (name) => receivers().find((r) => r.name === name),
    refresh: () => streams.streams(true).then(() => undefined),
  };
  // Keep the stream cache fresh for the (synchronous) registry: other workers' changes show up
  // (one read of the change stream a second; only changed streams are re-read).
  // Every 10 s, the delivery series of receivers gone (a deleted stream) are dropped from /metrics.
  let ticks = 0;
  const refresh = setInterval(() => {
    void streams
      .streams()
      .then(() => (++ticks % 10 === 0 ? deps.metrics?.pruneReceivers(new Set(receivers().map((r) => r.name))) : undefined))
      .then(() => recordIfChanged())
      .catch(() => undefined);
  }, 1000);
  refresh.unref();
  if (deps.auditReceivers !== false) await auditReceivers(deps, deps.config().receivers);
  const { workerId } = deps;
  // The owners recorded: only those of its tokens that own a stream (a digest of a token that owns
  // none is not written); again when that changes (a stream created here at once, elsewhere within a second).
  let owned: string[] = [];
  let closed = false;
  const ownedNow = async (): Promise<string[]> => ownersWithStreams(configOwners(deps.config()), await streams.streams());
  const recordOn = async (): Promise<void> => {
    if (workerId === undefined || deps.deliver === false || closed) return;
    const now = await ownedNow();
    await recordReceiversOn(deps.redis, deps.keys, workerId, deps.config().receivers, now);
    owned = now;
  };
  const recordIfChanged = async (): Promise<void> => {
    if ((await ownedNow()).join() !== owned.join()) await recordOn();
  };
  streams.onCreated = () => recordIfChanged();
  // A deleted stream's fields in every user's delivery records: removed in the background (a scan of the keyspace).
  streams.onDeleted = (receiver) =>
    void forgetReceiverDeliveries(deps.redis, deps.keys, receiver).catch((err: unknown) =>
      deps.logger.warn({ err, receiver }, 'delivery records of a deleted stream not removed'),
    );
  await recordOn();
  // A configured receiver a reload removes or turns off has its delayed SETs run (and fail) at once (once no worker has it on).
  const promoteGone = promoterOfGone(
    setQueue.queue,
    () => deps.config().receivers,
    (name) => enabledOnLiveWorker(deps.redis, deps.keys, name),
  );
  const delivery = new DeliveryHost({ ...deps, registry, ring: () => signing.ring() });
  if (deps.deliver !== false) delivery.start();
  const rt: SsfRuntime = {
    get keyRing() {
      return signing.ring();
    },
    setQueue,
    registry,
    streams,
    streamRate: new StreamRateLimit(deps.redis, deps.keys, () => deps.config().raw.ssf.limits, deps.logger),
    receivers,
    verifyReceiver: (name, state, actor) =>
      verifyReceiver(
        {
          redis: deps.redis,
          keys: deps.keys,
          queue: setQueue,
          audit: deps.audit,
          receivers: () => deps.config().receivers,
          interval: () => deps.config().raw.ssf.limits.min_verification_interval,
        },
        name,
        state,
        actor,
      ),
    enqueueChanges: async (changes) => {
      const { rest } = await early.split(changes);
      await enqueueLevelChanges(setQueue, rest, deps.config().receivers);
      // Every stream again, the early ones too: one resumed since is not missed (a repeat adds no job).
      await streams.onChanges(changes);
    },
    enqueueCommitted: (changes) => early.enqueue(changes),
    // The published keys read again first (one read, however many requests wait): a key another
    // worker signs with since a rolling reload is served here too. Redis slow or gone: within a
    // second, the keys as last read (the JWKS needs no Redis).
    jwks: async () => {
      await within(
        signing.reread().catch(() => undefined),
        JWKS_REREAD_MS,
        undefined,
      );
      return signing.jwks();
    },
    checkKeys: (ring) => signing.check(ring),
    ownersOn: () => owned,
    queueCounts: () => queueCounts(setQueue),
    reload: async (cancelled, ring) => {
      await signing.replace(ring ?? (await KeyRing.fromConfig(deps.config())));
      await auditReceivers(deps, deps.config().receivers);
      await recordOn();
      if (deps.deliver !== false) await promoteGone().catch((err: unknown) => deps.logger.warn({ err }, 'delayed SETs of removed receivers not run at once'));
      // Restarted only when what it was started with changed. A drain or close that began meanwhile
      // (a SIGTERM during the reload): none started after it.
      await delivery.restartIfChanged(() => closed || cancelled?.() === true);
    },
    close: async (waitMs) => {
      closed = true;
      clearInterval(refresh);
      signing.stop();
      await delivery.close(waitMs);
      if (workerId !== undefined && deps.deliver !== false) await forgetReceiversOn(deps.redis, deps.keys, workerId).catch(() => undefined);
      await setQueue.close();
      await early.close();
    },
    hurry: (waitMs) => delivery.hurry(waitMs),
    terminate: () => {
      closed = true;
      clearInterval(refresh);
      signing.stop();
      delivery.terminate();
      void early.close();
    },
  };
  return rt;
}
