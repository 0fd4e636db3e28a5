/**
 * The ISO-8601 shape nearly every producer writes (`Date#toISOString`: `yyyy-mm-ddThh:mm:ss.sssZ`),
 * read with arithmetic instead of the date parser. Pure.
 */

/** The number written by the digits `s[from]` … `s[to - 1]`, or -1 when one is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Days of month `m` (1–12) of year `y`. */
function monthDays(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to `y`-`m`-`d`, proleptic Gregorian (H. Hinnant's `days_from_civil`). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/**
 * Epoch ms of `s` when it is exactly `yyyy-mm-ddThh:mm:ss.sssZ` with every field in its ordinary
 * range (what `Date.parse` gives for it); NaN for anything else, which the caller parses as before.
 */
export function isoUtcMs(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46) return NaN;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 7);
  const d = digitsAt(s, 8, 10);
  const h = digitsAt(s, 11, 13);
  const mi = digitsAt(s, 14, 16);
  const sec = digitsAt(s, 17, 19);
  const ms = digitsAt(s, 20, 23);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo)) return NaN;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return NaN;
  return daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
}

/**
 * ISO-8601 date-times: `yyyy-mm-dd`, then optionally `T` (or a space) `hh:mm[:ss[.fff]]` (a comma
 * may stand for the dot), then optionally `Z` or an offset `±hh`, `±hh:mm`, `±hhmm`; or the basic
 * format `yyyymmddThhmm[ss[.fff]]` with `Z` or `±hh[mm]`. A time without an offset is UTC (never the
 * host's zone), a date alone its UTC midnight; `24:00` is the next midnight. Every field must be
 * in its range (no 31 November rolled into December); fractions beyond milliseconds are cut.
 * Epoch ms, or NaN when `s` is none of these. Pure.
 */
export function isoMs(s: string): number {
  const m = ISO_EXTENDED.exec(s) ?? ISO_BASIC.exec(s);
  if (!m) return NaN;
  const [, ys, mos, ds, hs, mis, secs, frac, zone, oh, om] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo)) return NaN;
  const h = hs === undefined ? 0 : Number(hs);
  const mi = mis === undefined ? 0 : Number(mis);
  const sec = secs === undefined ? 0 : Number(secs);
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  if (mi > 59 || sec > 59 || h > 24 || (h === 24 && (mi > 0 || sec > 0 || ms > 0))) return NaN;
  let offset = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const ohn = Number(oh);
    const omn = om === undefined ? 0 : Number(om);
    if (ohn > 23 || omn > 59) return NaN;
    offset = (zone[0] === '-' ? -1 : 1) * (ohn * 60 + omn) * 60_000;
  }
  return daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offset;
}

const ISO_EXTENDED = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?((?:[Zz])|[+-](\d{2})(?::?(\d{2}))?)?)?$/;
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?((?:[Zz])|[+-](\d{2})(\d{2})?)?$/;
