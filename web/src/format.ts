/** Formatting: every time is shown in UTC, numbers with grouped digits (locale-independent). */

const pad = (n: number): string => String(n).padStart(2, '0');

function toDate(t: string | number | null | undefined): Date | null {
  if (t === null || t === undefined || t === '') return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `2026-11-23 08:00:05 UTC`, or an em dash. */
export function when(t: string | number | null | undefined): string {
  const d = toDate(t);
  if (!d) return '—';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** ISO-8601 for `<time datetime>`. */
export function isoOf(t: string | number | null | undefined): string | undefined {
  return toDate(t)?.toISOString();
}

/** `08:00`. */
export function hhmm(t: string | number | null | undefined): string {
  const d = toDate(t);
  return d ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : '?';
}

/** `23 Nov`. */
export function dayMonth(t: string | number | null | undefined): string {
  const d = toDate(t);
  return d ? `${d.getUTCDate()} ${'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getUTCMonth()]}` : '?';
}

/** `16 994` (non-breaking space between groups). */
export function num(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return n === null || n === undefined ? '—' : String(n);
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  return r < 0 ? `-${s}` : s;
}

/** A duration in ms, compactly: `24h`, `1h30m`, `45s`, `250ms`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'never';
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** Hours of travel in words: `2 h`, `2.5 h`, `40 min`. */
export function hoursText(h: unknown): string {
  if (typeof h !== 'number' || !Number.isFinite(h)) return '? h';
  if (h === 0) return 'no time';
  if (h < 1) return `${Math.max(1, Math.round(h * 60))} min`;
  return `${Number(h.toFixed(1))} h`;
}

export interface Place {
  lat: number;
  lon: number;
  city?: string | null;
  country?: string | null;
  time?: string | null;
  ip?: string | null;
}

export function isPlace(v: unknown): v is Place {
  const p = v as Place | null;
  return !!p && typeof p === 'object' && typeof p.lat === 'number' && typeof p.lon === 'number';
}

export function placeName(p: Place): string {
  return p.city || p.country || `${p.lat.toFixed(2)}, ${p.lon.toFixed(2)}`;
}

/** The two logins of an impossible-travel evidence, when it has them. */
export function travelPair(evidence: Record<string, unknown>): { from: Place; to: Place } | null {
  return isPlace(evidence.from) && isPlace(evidence.to) ? { from: evidence.from, to: evidence.to } : null;
}

/** `London 08:00 → Sydney 10:00 UTC, 16 994 km in 2 h = 8 497 km/h`. */
export function travelWords(evidence: Record<string, unknown>): string | null {
  const pair = travelPair(evidence);
  if (!pair) return null;
  const { from, to } = pair;
  const sameDay = dayMonth(from.time) === dayMonth(to.time);
  const at = (p: Place): string => (sameDay ? hhmm(p.time) : `${dayMonth(p.time)} ${hhmm(p.time)}`);
  const speed = typeof evidence.speed_kmh === 'number' ? ` = ${num(evidence.speed_kmh)} km/h` : ' (no time between them)';
  const effective = typeof evidence.effective_km === 'number' ? ` (at least ${num(evidence.effective_km)} km allowing for location accuracy)` : '';
  return `${placeName(from)} ${at(from)} → ${placeName(to)} ${at(to)} UTC, ${num(evidence.distance_km)} km${effective} in ${hoursText(evidence.hours)}${speed}`;
}

/** Label for a level. */
export const LEVEL_TEXT: Record<string, string> = { high: 'High', medium: 'Medium', low: 'Low' };

/** `impossible_travel` → `Impossible travel`. */
export function humanize(id: string): string {
  const t = id
    .replace(/[_.-]+/g, ' ')
    .trim()
    .replace(/\b(dlp|edr|ip|asn|idp|mfa|url|ssf)\b/gi, (w) => w.toUpperCase());
  return t ? t[0]!.toUpperCase() + t.slice(1) : id;
}

/** A session's place from its `geo` ("Sydney, AU"), empty when it has none. */
export function geoPlace(geo: Record<string, unknown> | undefined): string {
  const g = geo ?? {};
  return [g.city, g.country].filter((v) => typeof v === 'string' && v).join(', ');
}
