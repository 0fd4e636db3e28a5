/**
 * A stored session identity as an admin reads it: the values `sessions.max_identity_bytes` cut
 * (docs/sessions.md "Size of an identity") said in words, not shown as if the IdP had sent them.
 */
import type { Session } from './api.js';
import { h } from './dom.js';
import { num } from './format.js';

/** The objects of an identity whose fields (or the whole object) may be cut. */
export const CUT_SECTIONS = ['claims', 'attributes', 'device', 'network', 'geo'] as const;
type Section = (typeof CUT_SECTIONS)[number];

const MARK_FIELDS = new Set(['truncated', 'bytes', 'sha256', 'items', 'keys']);

interface Marker {
  truncated: true;
  bytes: number;
  sha256: string;
  items?: number;
  keys?: number;
}

const isMarker = (v: unknown): v is Marker =>
  !!v && typeof v === 'object' && !Array.isArray(v) && (v as Marker).truncated === true && typeof (v as Marker).bytes === 'number';

/** The paths the identity lists as cut (`claims.groups`, `device`, `idp`, …). */
export function cutPaths(s: Session): string[] {
  return Array.isArray(s.truncated) ? s.truncated.filter((p): p is string => typeof p === 'string') : [];
}

/** `4 000 items not stored (168 891 bytes, sha256 9f2c…)`. */
export function cutWords(m: Marker): string {
  const what = typeof m.items === 'number' ? `${num(m.items)} items` : typeof m.keys === 'number' ? `${num(m.keys)} fields` : 'Value';
  return `${what} not stored (${num(m.bytes)} bytes, sha256 ${m.sha256})`;
}

const cutNode = (m: Marker): HTMLElement => h('span', { class: 'v-cut' }, cutWords(m));

/**
 * One section (`claims`, `device`, …) for display: a field listed as cut becomes the words of its
 * marker, a whole section listed as cut keeps its kept fields (a device's `id`) beside those words.
 * Only what `truncated` lists is read as a marker: a claim that merely looks like one is shown as sent.
 */
export function sectionForDisplay(s: Session, section: Section): unknown {
  const value = s[section] as Record<string, unknown> | undefined;
  if (!value || typeof value !== 'object') return value;
  const paths = cutPaths(s);
  if (paths.includes(section) && isMarker(value)) {
    const kept = Object.fromEntries(Object.entries(value).filter(([k]) => !MARK_FIELDS.has(k)));
    return Object.keys(kept).length ? { ...kept, '(other fields)': cutNode(value) } : cutNode(value);
  }
  let out: Record<string, unknown> | null = null;
  for (const p of paths) {
    if (!p.startsWith(`${section}.`)) continue;
    const key = p.slice(section.length + 1);
    const v = Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
    if (!isMarker(v)) continue;
    out ??= { ...value };
    Object.defineProperty(out, key, { value: cutNode(v), enumerable: true, writable: true, configurable: true });
  }
  return out ?? value;
}

/** The notice above a cut identity, or null. */
export function cutNotice(s: Session): HTMLElement | null {
  const paths = cutPaths(s);
  if (!paths.length) return null;
  return h(
    'div',
    { class: 'notice notice-warn', role: 'note', 'aria-label': 'Identity cut to size' },
    h(
      'p',
      null,
      h('strong', null, 'This identity was cut to fit the size bound '),
      '(sessions.max_identity_bytes). Cut, in this order: ',
      h('span', { class: 'mono break' }, paths.join(', ')),
      '.',
    ),
    h(
      'p',
      { class: 'small' },
      'A cut value is not stored: its size and the SHA-256 of its JSON are kept instead (compare it with the value you hold). No part of a list is kept.',
    ),
  );
}
