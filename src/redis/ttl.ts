/**
 * TTL arguments for Redis (`PX`, `EX`, `PEXPIRE`, `PEXPIREAT`): Redis accepts only integers, and
 * refuses ones whose deadline overflows. Every TTL derived from input goes through these, so a
 * value that slipped past validation (1e22, NaN, Infinity) can never make a command fail —
 * defence in depth behind the ingest time window (src/ingest/time-window.ts).
 */

/** The longest TTL riskstream ever sets: 100 years in ms (far below Redis's overflow bound). */
export const MAX_TTL_MS = 100 * 365 * 86_400_000;

/** A `PX` / `PEXPIRE` argument: an integer in [min, MAX_TTL_MS]; NaN → `min`. */
export function clampPx(ms: number, min = 1): number {
  if (Number.isNaN(ms)) return min;
  return Math.min(MAX_TTL_MS, Math.max(min, Math.ceil(ms)));
}

/** An `EX` / `EXPIRE` argument (seconds): an integer in [min, MAX_TTL_MS / 1000]; NaN → `min`. */
export function clampEx(seconds: number, min = 1): number {
  if (Number.isNaN(seconds)) return min;
  return Math.min(MAX_TTL_MS / 1000, Math.max(min, Math.ceil(seconds)));
}

/** A `PEXPIREAT` argument: an integer epoch ms in [now + 1, now + MAX_TTL_MS]. */
export function clampPxAt(at: number, now: number): number {
  return now + clampPx(at - now);
}

/** The same bound for Lua scripts: `math.min(MAX_TTL, math.max(1, math.ceil(x)))`. */
export const LUA_MAX_TTL_MS = String(MAX_TTL_MS);
