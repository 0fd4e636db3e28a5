/**
 * Wrapper objects of a `POST /v1/events` body (src/ingest/body-records.ts): an object holding its
 * records in an array under `events` / `records` / `Records` / `value`, without a `user` (Azure
 * Monitor's export, a Microsoft Graph page, …). Pure scanning, nothing parsed but an escaped key.
 */
import { skipString, skipValue, skipWs } from './json-scan.js';

/** The keys of a wrapper's array; `value`: a Microsoft Graph page (`{"@odata.context":…,"value":[…]}`, e.g. `auditLogs/signIns`). */
const WRAPPERS = new Set(['events', 'records', 'Records', 'value']);

/** The span of a wrapped array (`{"records":[…]}` without `user`): where its `[` is, or undefined. */
export function wrappedArray(t: string, start: number): number | undefined {
  let i = skipWs(t, start + 1);
  let found: number | undefined;
  while (i < t.length && t.charCodeAt(i) === 0x22) {
    const keyEnd = skipString(t, i);
    if (keyEnd < 0) return undefined;
    let key: unknown = t.slice(i + 1, keyEnd - 1);
    // Parsed only when it holds an escape (most keys are plain: every line of a body may be scanned).
    if ((key as string).includes('\\')) {
      try {
        key = JSON.parse(t.slice(i, keyEnd));
      } catch {
        return undefined;
      }
    }
    i = skipWs(t, keyEnd);
    if (t.charCodeAt(i) !== 0x3a) return undefined;
    i = skipWs(t, i + 1);
    if (key === 'user') return undefined;
    if (found === undefined && typeof key === 'string' && WRAPPERS.has(key) && t.charCodeAt(i) === 0x5b) found = i;
    const end = skipValue(t, i);
    if (end < 0) return undefined;
    i = skipWs(t, end);
    if (t.charCodeAt(i) === 0x2c) i = skipWs(t, i + 1);
  }
  return found;
}

/**
 * Where a wrapper's key (`"records"`, …) next occurs in a body, found once per occurrence rather
 * than once per record: {@link within} tells whether a record's text may name one, so that only
 * such records are scanned for a wrapper (a body of 100 000 events scans none of them twice).
 */
export class WrapperKeys {
  private readonly next = [...WRAPPERS].map((k) => ({ key: `"${k}"`, at: -1 }));
  constructor(private readonly t: string) {}
  /** True when `t[s]` … `t[e - 1]` holds a wrapper key. */
  within(s: number, e: number): boolean {
    let hit = false;
    for (const n of this.next) {
      if (n.at !== -2 && n.at < s) {
        const at = this.t.indexOf(n.key, s);
        n.at = at < 0 ? -2 : at;
      }
      if (n.at >= 0 && n.at < e) hit = true;
    }
    return hit;
  }
}
