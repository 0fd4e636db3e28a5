/**
 * Values that say nothing in an optional canonical field, so that the field is absent: a blank
 * string everywhere (shippers fill templated fields so: `"ip": ""`), and per field the placeholders
 * sources write for "none" — `ip`'s `-` (web servers' and Logstash's "no address"), `geo.country`'s
 * `Unknown`, `--`, `N/A`, `ZZ` (CLDR's unknown region) and `XX` (Cloudflare's). A country read as
 * a placeholder would be a country of its own: session_hijack would take a session used from
 * "Unknown" for one used from abroad, new_country would flag it.
 */

/** The placeholders of a field, trimmed and lower case (real codes are kept: NA Namibia, XK Kosovo, T1 Tor). */
const PLACEHOLDERS: Record<string, ReadonlySet<string>> = {
  ip: new Set(['-']),
  'geo.country': new Set(['-', '--', 'unknown', 'n/a', 'zz', 'xx']),
};
/** Longest placeholder with some room for spaces around it: longer values are never one. */
const LONGEST = 12;

/** The placeholders that say nothing in the field at `path`, or undefined. */
export function noneOf(path: string): ReadonlySet<string> | undefined {
  return Object.hasOwn(PLACEHOLDERS, path) ? PLACEHOLDERS[path] : undefined;
}

/** An optional field's value that says nothing: an empty or blank string. */
export function isBlank(v: unknown): boolean {
  return typeof v === 'string' && v.trim() === '';
}

/** True when `v` is one of `none` (trimmed, any case). */
export function isPlaceholder(v: unknown, none: ReadonlySet<string> | undefined): boolean {
  return none !== undefined && typeof v === 'string' && v.length <= LONGEST && none.has(v.trim().toLowerCase());
}

/** Whether `v` is absent in an optional field: blank (where blank is absent) or one of its placeholders. */
export function saysNothing(v: unknown, blankAbsent: boolean, none: ReadonlySet<string> | undefined): boolean {
  return blankAbsent && (isBlank(v) || isPlaceholder(v, none));
}
