/**
 * The delivery worker of a process's SET side (src/runtime/ssf.ts) across config reloads: started
 * with the config and key ring of the moment, restarted by a reload only when what it was started
 * with changed ({@link deliveryInputs}) — a restart waits for the sends in flight (a hung receiver:
 * up to its timeout), and every receiver's deliveries wait meanwhile.
 */
import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { KeyRing } from '../ssf/key-ring.js';
import type { ReceiverRegistry } from '../ssf/receivers.js';
import { startDeliveryWorker, type DeliveryWorker } from '../ssf/delivery-worker.js';
import { egressFromConfig } from '../ssf/egress.js';

/** What {@link DeliveryHost} starts its worker with (the config and key ring read at each start). */
export interface DeliveryHostDeps {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  audit: AuditLog;
  logger: Logger;
  metrics?: Metrics;
  registry: ReceiverRegistry;
  ring: () => KeyRing;
}

/**
 * What a delivery worker is started with that a reload can change: the issuer, `delivery`, `ssf`
 * (egress policy), `signing` and the key ring's public keys (the private keys they come from).
 * Receivers are read afresh at every send.
 */
function deliveryInputs(cfg: Config, ring: KeyRing): string {
  return JSON.stringify([cfg.raw.issuer, cfg.raw.delivery, cfg.raw.ssf, cfg.raw.signing, ring.jwks()]);
}

/** One process's delivery worker: none until {@link start}. */
export class DeliveryHost {
  private worker: DeliveryWorker | undefined;
  private startedWith = '';

  constructor(private readonly deps: DeliveryHostDeps) {}

  /** Starts a delivery worker with the config and key ring of now. */
  start(): void {
    const { deps } = this;
    const cfg = deps.config();
    const keyRing = deps.ring();
    this.startedWith = deliveryInputs(cfg, keyRing);
    this.worker = startDeliveryWorker({
      connection: deps.redis,
      keys: deps.keys,
      registry: deps.registry,
      keyRing,
      issuer: cfg.raw.issuer,
      audit: deps.audit,
      delivery: cfg.raw.delivery,
      egress: egressFromConfig(cfg.raw.ssf, cfg.raw.delivery.concurrency),
      logger: deps.logger,
      onOutcome: (receiver, outcome) => deps.metrics?.deliveries.inc({ receiver, outcome }),
    });
  }

  /**
   * After a reload: a worker running whose inputs changed is closed and started again, unless
   * `cancelled()` once it closed (a drain or close began meanwhile: none is started after it).
   */
  async restartIfChanged(cancelled: () => boolean): Promise<void> {
    if (!this.worker || deliveryInputs(this.deps.config(), this.deps.ring()) === this.startedWith) return;
    // A drain already begun closes it itself, within what is left of shutdown_timeout.
    if (cancelled()) return;
    await this.worker.close();
    if (!cancelled()) this.start();
  }

  /** Closes the worker (waiting for its sends in flight, `waitMs` at most: see {@link DeliveryWorker.close}). */
  async close(waitMs?: number): Promise<void> {
    await this.worker?.close(waitMs);
  }

  /** Bounds the wait of a close under way (a reload's restart) to `waitMs` from now. */
  hurry(waitMs: number): void {
    this.worker?.hurry(waitMs);
  }

  /** Stops the worker at once: nothing is sent after it. */
  terminate(): void {
    this.worker?.terminate();
  }
}
