/**
 * Delivery bookkeeping in Redis, shared by every worker: per (user, receiver) versions
 * delivered and enqueued, a short send lock, and a per-receiver throttle (rate limit + 429
 * pause). Each step is one atomic command or Lua script.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { scriptsOn, type Scripts } from '../redis/scripts.js';
import { setNx } from '../redis/set-nx.js';
import { enabledOnLiveWorker, ownerOnLiveWorker } from './receivers-on.js';

/**
 * How late (ms) a job may come back for its rate-limit reservation and still use it as it is:
 * each reservation starts this much later than a strict window would need, so a send started up
 * to this late still keeps every 1-second window within the rate.
 */
export const RATE_GRACE_MS = 100;

/** Delivery state for one Redis (keys from {@link Keys}). */
export class DeliveryState {
  /** The scripts (src/redis/scripts/delivery-*.lua), sent by SHA (EVALSHA) rather than as source on every call. */
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.scripts = scriptsOn(redis);
  }

  /** Highest versions delivered and enqueued to `receiver` for `user` (0 when none), in one round trip. */
  async versions(user: string, receiver: string): Promise<{ delivered: number; enqueued: number }> {
    // Sent together (same tick, one write each), no pipeline object needed for two reads.
    const [delivered, enqueued] = await Promise.all([
      this.redis.hget(this.keys.userDelivered(user), receiver),
      this.redis.hget(this.keys.userEnqueued(user), receiver),
    ]);
    return { delivered: Number(delivered ?? 0), enqueued: Number(enqueued ?? 0) };
  }

  /**
   * True when a running worker's configuration has `receiver` configured and enabled
   * (`<prefix>:receivers:on`, for workers still in `<prefix>:engine:members`), or the last
   * configuration a worker applied has (`<prefix>:receivers:known`, its fingerprint marked `+`): a
   * worker whose own configuration lacks it, or holds it disabled, is behind a reload, not told to
   * drop its SETs — even when a worker not reloaded yet started or reloaded since, which rewrites
   * the known mark.
   */
  async enabledElsewhere(receiver: string): Promise<boolean> {
    return (await enabledOnLiveWorker(this.redis, this.keys, receiver)) || (await this.redis.hget(this.keys.receiversKnown, receiver))?.endsWith('+') === true;
  }

  /**
   * True when a running worker's configuration has a token of stream owner `owner` (an SSF stream's
   * creator): a worker whose own configuration lacks it is behind a reload that put it back.
   */
  ownerElsewhere(owner: string): Promise<boolean> {
    return ownerOnLiveWorker(this.redis, this.keys, owner);
  }

  /** Raises the delivered version to max(old, version). */
  async markDelivered(user: string, receiver: string, version: number): Promise<number> {
    return Number(await this.scripts.deliveryRaise(this.keys.userDelivered(user), receiver, String(version)));
  }

  /** Raises the enqueued version to max(old, version). */
  async markEnqueued(user: string, receiver: string, version: number): Promise<number> {
    return Number(await this.scripts.deliveryRaise(this.keys.userEnqueued(user), receiver, String(version)));
  }

  /** Takes the (user, receiver) send lock for `ttlMs`; returns a release function, or undefined when held elsewhere. */
  async lock(user: string, receiver: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const key = this.keys.userSendLock(user, receiver);
    const token = randomUUID();
    if (!(await setNx(this.redis, key, token, Math.max(1, Math.ceil(ttlMs))))) return undefined;
    return async () => {
      await this.scripts.lockRelease(key, token);
    };
  }

  /**
   * Throttle gate for `receiver`: `wait` 0 = send now, else ms to wait. `reserved` is a new
   * rate-limit reservation (a send time) taken for this caller, to pass back as `held` when it
   * comes back for the same attempt: used then if that keeps the window (on time, or no more than
   * {@link RATE_GRACE_MS} late, or late with room left), else stale and re-checked — so no 1-second
   * window gets more than `ratePerSec` sends, from all workers together.
   */
  async gate(receiver: string, ratePerSec: number | undefined, held?: string): Promise<{ wait: number; reserved?: string }> {
    const [wait, reserved] = await this.scripts.deliveryGate(this.keys.receiverThrottle(receiver), String(ratePerSec ?? 0), held ?? '', String(RATE_GRACE_MS));
    return { wait: Number(wait), ...(reserved ? { reserved } : {}) };
  }

  /** Pauses every delivery to `receiver` for `ms` (after a 429). */
  async pause(receiver: string, ms: number): Promise<void> {
    await this.scripts.deliveryPause(this.keys.receiverThrottle(receiver), String(Math.max(0, Math.ceil(ms))));
  }
}
