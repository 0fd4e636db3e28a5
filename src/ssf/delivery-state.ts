/**
 * Delivery bookkeeping in Redis, shared by every worker: per (user, receiver) versions
 * delivered and enqueued, a short send lock, and a per-receiver throttle (rate limit + 429
 * pause). Each step is one atomic command or Lua script.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';

/** HSET field = max(old, ARGV[2]); returns the new value. */
const RAISE = `
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local v = tonumber(ARGV[2])
if v > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return v end
return old`;

/** DEL only when the lock still holds our token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Throttle gate (server clock). Returns {wait ms, reserved}. A 429 pause (`pause_until`)
 * blocks everyone (nothing reserved); otherwise GCRA with a one-second burst reserves the
 * next slot for this caller (`tat` advances) so waiting jobs are spaced out, not herded.
 * ARGV: rate (SETs/s, 0 = unlimited).
 */
const GATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause_until') or '0')
if pause > now then return {pause - now, 0} end
local rate = tonumber(ARGV[1])
if rate <= 0 then return {0, 0} end
local interval = 1000 / rate
local tat = math.max(tonumber(redis.call('HGET', KEYS[1], 'tat') or '0'), now)
local wait = math.ceil(tat - now - (1000 - interval))
redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval))
redis.call('PEXPIRE', KEYS[1], math.ceil(tat + interval - now) + 60000)
if wait > 0 then return {wait, 1} end
return {0, 1}`;

/** Raise pause_until to now + ARGV[1] ms. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local old = tonumber(redis.call('HGET', KEYS[1], 'pause_until') or '0')
if untilMs > old then redis.call('HSET', KEYS[1], 'pause_until', tostring(untilMs)) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) + 60000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 60000) end
return untilMs`;

interface Scripts {
  rsRaise(key: string, field: string, value: string): Promise<number>;
  rsRelease(key: string, token: string): Promise<number>;
  rsGate(key: string, rate: string): Promise<[number, number]>;
  rsPause(key: string, ms: string): Promise<number>;
}

/** Delivery state for one Redis (keys from {@link Keys}). */
export class DeliveryState {
  /** The scripts, sent by SHA (EVALSHA) rather than as source on every call. */
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    const defs: Array<[keyof Scripts, string]> = [['rsRaise', RAISE], ['rsRelease', RELEASE], ['rsGate', GATE], ['rsPause', PAUSE]];
    for (const [name, lua] of defs) if (typeof (redis as unknown as Partial<Scripts>)[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 1, lua });
    this.scripts = redis as unknown as Scripts;
  }

  /** Highest versions delivered and enqueued to `receiver` for `user` (0 when none), in one round trip. */
  async versions(user: string, receiver: string): Promise<{ delivered: number; enqueued: number }> {
    // Sent together (same tick, one write each), no pipeline object needed for two reads.
    const [delivered, enqueued] = await Promise.all([this.redis.hget(this.keys.userDelivered(user), receiver), this.redis.hget(this.keys.userEnqueued(user), receiver)]);
    return { delivered: Number(delivered ?? 0), enqueued: Number(enqueued ?? 0) };
  }

  /** Raises the delivered version to max(old, version). */
  async markDelivered(user: string, receiver: string, version: number): Promise<number> {
    return Number(await this.scripts.rsRaise(this.keys.userDelivered(user), receiver, String(version)));
  }

  /** Raises the enqueued version to max(old, version). */
  async markEnqueued(user: string, receiver: string, version: number): Promise<number> {
    return Number(await this.scripts.rsRaise(this.keys.userEnqueued(user), receiver, String(version)));
  }

  /** Takes the (user, receiver) send lock for `ttlMs`; returns a release function, or undefined when held elsewhere. */
  async lock(user: string, receiver: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const key = this.keys.userSendLock(user, receiver);
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    if (ok !== 'OK') return undefined;
    return async () => {
      await this.scripts.rsRelease(key, token);
    };
  }

  /**
   * Throttle gate for `receiver`: `wait` 0 = send now, else ms to wait; `reserved` when a
   * rate-limit slot was taken for this caller (it must not gate again for the same attempt).
   */
  async gate(receiver: string, ratePerSec: number | undefined): Promise<{ wait: number; reserved: boolean }> {
    const [wait, reserved] = await this.scripts.rsGate(this.keys.receiverThrottle(receiver), String(ratePerSec ?? 0));
    return { wait: Number(wait), reserved: reserved === 1 };
  }

  /** Pauses every delivery to `receiver` for `ms` (after a 429). */
  async pause(receiver: string, ms: number): Promise<void> {
    await this.scripts.rsPause(this.keys.receiverThrottle(receiver), String(Math.max(0, Math.ceil(ms))));
  }
}
