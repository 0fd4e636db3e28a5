import { canonicalOutcome } from '../login.js';
import { isIP } from 'node:net';
import { countryCode } from '../country-code.js';
import { isoMs, isoUtcMs } from './iso-time.js';
import { isRepresentableTime, TIME_INVALID, TIME_OUT_OF_RANGE } from './time-window.js';
import { charCount, DECIMAL_NUMBER, EMAIL_ADDRESS } from '../text.js';
import { scrubId } from '../secrets/secret-values.js';
import { storedEventId } from '../secrets/stored-ids.js';

/**
 * The canonical event's field rules (docs/interfaces.md §2): each takes a value and the field's
 * path (for messages) and returns the normalised value or an `Invalid` naming the field. The
 * common shapes (`toISOString` times, dotted-quad IPs, plain ASCII emails) are recognised with
 * character checks first; anything else goes through the regular expressions that define them.
 */

/** A rule's rejection: the message names the field. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** A field rule: the normalised value, or why the value is refused. */
export type Rule<T> = (v: unknown, field: string) => T | Invalid;

/** Below this an epoch number is taken as seconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_BELOW = 1e11;

/**
 * Epoch ms with a fraction cut to the millisecond, as an ISO time's digits beyond milliseconds are,
 * so one instant reads the same in every form. A value within 1 µs below a whole millisecond is
 * that millisecond: a double's error (1795420800.512 × 1000 is a hair below …512), not a fraction.
 */
const wholeMs = (x: number): number => Math.floor(x + 1e-3);

/** The type of a value as messages name it. */
export const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Digits at `s[from]` … `s[to - 1]`. */
function digits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Four digits then `-`: never DECIMAL_NUMBER (a `-` there needs an exponent's `e` before it). */
const datePrefixed = (s: string): boolean => s.length > 4 && s.charCodeAt(4) === 45 && digits(s, 0, 4);

/** A strict dotted quad (0–255, no leading zeros): what `net.isIPv4` accepts. */
function isDottedQuad(s: string): boolean {
  let parts = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = i;
    let v = 0;
    while (i < n && isDigit(s.charCodeAt(i))) v = v * 10 + (s.charCodeAt(i++) - 48);
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    if (++parts === 4) return i === n;
    if (s.charCodeAt(i++) !== 46) return false;
  }
  return false;
}

/** An email address as riskstream tells one (`local@domain`, no spaces): lower-cased at ingest, sent as an `email` subject. */
export function isEmailAddress(s: string): boolean {
  return isPlainEmail(s) || EMAIL_ADDRESS.test(s);
}

/** Printable ASCII with one `@` inside: a sure EMAIL_ADDRESS match (anything else: the regex decides). */
function isPlainEmail(s: string): boolean {
  const at = s.indexOf('@');
  if (at <= 0 || at === s.length - 1) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || (c === 64 && i !== at)) return false;
  }
  return true;
}

/** How a refused string is described without quoting it (it may hold a secret): `a string of 12 characters`. */
function aStringOf(s: string): string {
  return `a string of ${s.length} character${s.length === 1 ? '' : 's'}`;
}

/** A finite number, or a numeric string of one (`1e400`, beyond a double, is refused as the JSON number is); anything else is rejected. */
export const toNumber: Rule<number> = (v, field) => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : new Invalid(`${field}: must be a finite number`);
  if (typeof v === 'string' && DECIMAL_NUMBER.test(v.trim())) return toNumber(Number(v.trim()), field);
  return new Invalid(`${field}: must be a number (got ${kind(v) === 'string' ? aStringOf(String(v)) : kind(v)})`);
};

/**
 * ISO-8601 string, epoch ms, or epoch seconds (< 1e11), as number or numeric string → epoch ms
 * (a fraction of a millisecond cut, in every form).
 * Refuses times a `Date` cannot hold (`time_out_of_range`) and non-times (`time_invalid`).
 */
export const toEpochMs: Rule<number> = (v, field) => {
  if (v === undefined || v === null || v === '') return new Invalid(`${field}: required (ISO-8601 or epoch ms)`);
  let n: number;
  let epoch = true; // a number: seconds when small (an ISO time is never read as seconds)
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    const iso = isoUtcMs(s); // the common shape, read directly (never DECIMAL_NUMBER: it has a `-`)
    epoch = Number.isNaN(iso) && !datePrefixed(s) && DECIMAL_NUMBER.test(s);
    if (!Number.isNaN(iso)) n = iso;
    else if (epoch) n = Number(s);
    else {
      n = isoMs(s); // any other ISO-8601 date-time (one without an offset is UTC, not the host's zone)
      if (Number.isNaN(n)) return new Invalid(`${field}: not an ISO-8601 time or epoch number (${aStringOf(v)}) (${TIME_INVALID})`);
    }
  } else return new Invalid(`${field}: must be an ISO-8601 string or epoch ms (got ${kind(v)}) (${TIME_INVALID})`);
  if (Number.isNaN(n)) return new Invalid(`${field}: not a valid time (${TIME_INVALID})`);
  const ms = wholeMs(epoch && n < SECONDS_BELOW ? n * 1000 : n);
  // 1e21, 1e308, Infinity, negatives: never a time (and never a Redis TTL). The value is not quoted.
  return isRepresentableTime(ms) ? ms : new Invalid(`${field}: ${TIME_OUT_OF_RANGE} (not a representable time)`);
};

/** Non-empty string after trimming. */
export const toText: Rule<string> = (v, field) => {
  if (typeof v !== 'string') return new Invalid(`${field}: must be a string (got ${kind(v)})`);
  const s = v.trim();
  return s ? s : new Invalid(`${field}: must not be empty`);
};

/**
 * Country: a non-empty string, as its ISO 3166-1 alpha-2 code when it is one in any case (`gb` →
 * `GB`, `UK` → `GB`), an alpha-3 code (`GBR` → `GB`) or an English name of one (`United Kingdom` →
 * `GB`); else kept as given.
 */
export const toCountry: Rule<string> = (v, field) => {
  const s = toText(v, field);
  return s instanceof Invalid ? s : (countryCode(s) as string);
};

/**
 * Identifier: a non-empty string; a number whose value is a whole number within ±(2^53 − 1) accepted
 * and stringified (`7.0` and `7e0` read `7`). A JSON number beyond was rounded when its JSON was read —
 * 12345678901234567891 and …892 both read 12345678901234567000 —, so distinct ids would be one, and
 * one with a fraction names no id: refused.
 */
export const toId: Rule<string> = (v, field) => {
  if (typeof v !== 'number') return toText(v, field);
  return Number.isSafeInteger(v)
    ? String(v)
    : new Invalid(`${field}: a number that is not a whole number within ±(2^53 - 1) is not read exactly (its digits are lost): send the id as a string`);
};

/**
 * The event's `id`: an identifier whose tokens (a JWT, a long opaque token) are fingerprinted
 * (`[redacted jwt sha256:<hex>]`), since the id is stored with every hit it makes (risk events, the
 * user's state), and one longer than 512 characters is read as its hash (`sha256:<hex>`). The same
 * id always reads the same, so an event delivered again is still known by it.
 */
export const toEventId: Rule<string> = (v, field) => {
  const s = toId(v, field);
  return typeof s === 'string' ? storedEventId(scrubId(s)) : s;
};

/** Longest subject (an email address is at most 254): a longer one is broken input, and would become Redis key names. */
export const MAX_USER_LENGTH = 1024;

const NON_ASCII = /[\u0080-\uffff]/; // astral characters too: their surrogates are in this range

/**
 * The subject: trimmed; in Unicode NFC (one spelling of `é`, composed or not); never with U+FFFD
 * (bytes that were not UTF-8, a lone surrogate): refused, since different users would merge; email
 * addresses lower-cased; at most {@link MAX_USER_LENGTH} characters. Ingest, the API and the CLI share it.
 */
export const toUser: Rule<string> = (v, field) => {
  if (v === undefined || v === null) return new Invalid(`${field}: required`);
  let s = toId(v, field);
  if (typeof s !== 'string') return s;
  if (s.length > MAX_USER_LENGTH * 6) return tooLongUser(field); // NFC at most triples a text (two units a character): never normalised
  if (NON_ASCII.test(s)) {
    s = (s as unknown as { toWellFormed(): string }).toWellFormed().normalize('NFC');
    // Bytes that were not UTF-8 (Redis hands them over as U+FFFD) or a lone surrogate: every such
    // user would be one (`w\xff@x`, `w\xfe@x` → `w�@x`), and no receiver could match it.
    if (s.includes('\ufffd')) return new Invalid(`${field}: not valid UTF-8 (it holds U+FFFD, the replacement character)`);
  }
  if (isEmailAddress(s)) {
    s = s.toLowerCase();
    // A small letter can compose where its capital did not (Ϊ́ → ΐ → ΐ): NFC again, so the stored
    // user is NFC and reads the same when asked about again.
    if (NON_ASCII.test(s)) s = s.normalize('NFC');
  }
  // Counted as stored (after NFC and lower-casing): one user, one rule, whatever its spelling.
  // Characters (code points), not UTF-16 units: an emoji is one.
  return s.length > MAX_USER_LENGTH && charCount(s) > MAX_USER_LENGTH ? tooLongUser(field) : s;
};

const tooLongUser = (field: string): Invalid => new Invalid(`${field}: longer than ${MAX_USER_LENGTH} characters`);

/** Lower-cased outcome; success and failure aliases collapse to `success` / `failure`. */
export const toOutcome: Rule<string> = (v, field) => {
  const s = toText(v, field);
  if (s instanceof Invalid) return s;
  return canonicalOutcome(s);
};

/** A port after an address: `:` then 1–5 digits, at most 65535. */
const PORT = /^:\d{1,5}$/;
const isPort = (s: string): boolean => PORT.test(s) && Number(s.slice(1)) <= 65_535;

/**
 * The address of an address with a port, as access logs and proxies write one — `1.2.3.4:443`,
 * `[2001:db8::1]:443`, `[2001:db8::1]` — or undefined.
 */
function addressOf(s: string): string | undefined {
  if (s.charCodeAt(0) === 91 /* [ */) {
    const end = s.indexOf(']');
    const a = end > 0 ? s.slice(1, end) : '';
    const rest = s.slice(end + 1);
    return isIP(a) === 6 && (rest === '' || isPort(rest)) ? a : undefined;
  }
  const colon = s.indexOf(':');
  // One colon only: an IPv6 address has two or more.
  if (colon < 0 || s.indexOf(':', colon + 1) >= 0) return undefined;
  const a = s.slice(0, colon);
  return isDottedQuad(a) && isPort(s.slice(colon)) ? a : undefined;
}

/** A valid IPv4 or IPv6 address; one written with a port (`1.2.3.4:443`, `[::1]:443`) is its address. */
export const toIp: Rule<string> = (v, field) => {
  const s = toText(v, field);
  if (s instanceof Invalid) return s;
  if (isDottedQuad(s) || isIP(s)) return s;
  return addressOf(s) ?? new Invalid(`${field}: not a valid IPv4/IPv6 address (${aStringOf(s)})`);
};

/** Autonomous system number: a number, numeric string or `AS1234` (finite, as {@link toNumber}'s). */
export const toAsn: Rule<number> = (v, field) =>
  typeof v === 'string' && /^AS\d+$/i.test(v.trim()) ? toNumber(Number(v.trim().slice(2)), field) : toNumber(v, field);

/** A non-null, non-array object. */
export const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object, kept as is. */
export const asObject: Rule<Record<string, unknown>> = (v, field) => (isPlain(v) ? v : new Invalid(`${field}: must be an object (got ${kind(v)})`));
