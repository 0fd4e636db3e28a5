/**
 * Failed token checks counted per client address, and the addresses refused for a while after too
 * many (`http.auth_failures`): a bound on guessing tokens. Per process, in memory, bounded. Pure
 * apart from the clock it is given.
 */
import { parseIp } from '../net/address-class.js';
import type ipaddr from 'ipaddr.js';

/** The throttle's settings (read at every failure: a reload applies at once). */
export interface AuthThrottleLimits {
  /** Failures within `windowMs` that get an address refused; `0`: never refused. */
  limit: number;
  windowMs: number;
  /** How long an address is refused once it reached `limit`. */
  blockMs: number;
}

/**
 * Most addresses tracked at once (≈ 100 bytes each): past it the one whose last failure is oldest is
 * forgotten, so an attacker with many addresses cannot grow the table.
 */
export const MAX_TRACKED_ADDRESSES = 10_000;

interface Entry {
  /** When the window of `failures` began. */
  since: number;
  failures: number;
  /** Refused until then (0: not refused in this window). */
  until: number;
}

/**
 * The key an address is counted under: IPv4 (an IPv4-mapped IPv6 address as its IPv4 address) as
 * it is, IPv6 by its /64 — one host, or one customer of a provider, holds a whole /64 and could
 * otherwise take a fresh address for every guess.
 */
export function clientKey(address: string): string {
  const a = parseIp(address);
  if (!a) return address;
  if (a.kind() === 'ipv4') return a.toString();
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(':')}::/64`;
}

/** Failures per client key; an address at `limit` is refused for `blockMs`. */
export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly limits: () => AuthThrottleLimits,
    private readonly now: () => number = Date.now,
    private readonly capacity: number = MAX_TRACKED_ADDRESSES,
  ) {}

  /** Addresses tracked now (for tests and bounds). */
  get size(): number {
    return this.#entries.size;
  }

  /** Whole seconds `key` is still refused (at least 1), or undefined when it is not. */
  retryAfter(key: string): number | undefined {
    const e = this.#entries.get(key);
    const left = e ? e.until - this.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : undefined;
  }

  /**
   * Counts a failure from `key`; true when it is the one that gets `key` refused. A success never
   * clears the count: a caller holding one valid token (an ingest token) would otherwise guess
   * others (admin tokens) without end.
   */
  fail(key: string): boolean {
    const { limit, windowMs, blockMs } = this.limits();
    if (limit <= 0) return false;
    const t = this.now();
    let e = this.#entries.get(key);
    this.#entries.delete(key); // re-inserted last: the map's order is the order of last failures
    if (!e || (e.until ? e.until <= t : t - e.since >= windowMs)) e = { since: t, failures: 0, until: 0 };
    e.failures++;
    const refused = e.failures >= limit && !e.until;
    if (refused) e.until = t + blockMs;
    this.#entries.set(key, e);
    this.prune(t, windowMs);
    return refused;
  }

  /** Forgets entries whose window and refusal are over (oldest first), and any past the capacity. */
  private prune(t: number, windowMs: number): void {
    for (const [k, e] of this.#entries) {
      const stale = t - e.since >= windowMs && e.until <= t;
      if (!stale && this.#entries.size <= this.capacity) break;
      this.#entries.delete(k);
    }
  }
}
