/** Formatting helpers for hit summaries and evidence (JSON-safe, locale-independent). */

/** An integer with space-separated thousands: `16994` → `"16 994"`. */
export function groupDigits(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return n < 0 ? `-${s}` : s;
}

/** Epoch ms as ISO-8601, or null when not a valid time (never throws). */
export function isoTime(ms: number): string | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A finite number rounded to `digits` decimals, or null (keeps evidence JSON-safe). */
export function round(n: number, digits = 0): number | null {
  if (!Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * How a summary names the sign-in that completes a credential attack (without an article): a
 * successful login, or a login whose password was accepted but which was `interrupted` or
 * `blocked` (see src/login.ts), from `ip` when known.
 */
export function credentialSuccess(accepted: string | undefined, ip: string | undefined): string {
  const from = ip ? ` from ${ip}` : '';
  if (!accepted) return `successful login${from}`;
  return `login${from} with the right password, ${accepted === 'interrupted' ? 'interrupted (MFA or a prompt required)' : 'blocked by policy'}`;
}
