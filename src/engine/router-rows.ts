import { compareKeys, orderableId, orderKey, type OrderKey } from '../partition.js';
import type { RawEntry } from '../types.js';
import { arrivalOf } from './apply.js';
import { decodeControl } from './control.js';
import type { Held } from './route-write.js';
import type { RouteReport, RouterParts } from './router-types.js';

/** Where {@link decodeRows} puts a stream's rows. */
export interface DecodedRows {
  /** The stream's entries held until the watermark passes them. */
  held: Held[];
  /** Entries refused (to the dead-letter stream, then acked). */
  bad: Array<{ raw: RawEntry; reason: string }>;
  /** Entries to ack with nothing to route (deleted while pending). */
  ackOnly: Map<string, string[]>;
  report: RouteReport;
}

/**
 * Decodes one stream's rows (source index `source`) into `out`: events and control ops held with
 * their order keys, bad entries with their reasons, deleted ones to ack; each entry is judged at its
 * arrival ({@link arrivalOf}: its id's time, else `now`). Returns the last row's order key
 * (undefined without rows).
 */
export function decodeRows(
  stream: string,
  source: number,
  rows: Array<[string, string[] | null]>,
  now: number,
  how: { control: boolean; decode: RouterParts['decode'] },
  out: DecodedRows,
): OrderKey | undefined {
  let read = 0;
  let key: OrderKey | undefined;
  for (const [id, flat] of rows) {
    // An id no order key can hold (refused below) does not move the watermark.
    const k = orderableId(id) ? orderKey(id, source) : undefined;
    if (k) key = k;
    if (!flat) {
      pushTo(out.ackOnly, stream, id); // deleted while pending
      continue;
    }
    read++;
    const fields: Record<string, string> = {};
    let twice: string | undefined;
    let repeated: Array<[string, string]> | undefined;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i]!;
      if (Object.hasOwn(fields, name)) {
        twice ??= name;
        (repeated ??= []).push([name, fields[name]!]);
      }
      // A field named `__proto__` is one of the entry's fields like any other (kept for its dead letter), not
      // the prototype's setter; defined, not assigned, so every other map stays a plain (fast) object.
      if (name === '__proto__') Object.defineProperty(fields, name, { value: flat[i + 1]!, enumerable: true, writable: true, configurable: true });
      else fields[name] = flat[i + 1]!;
    }
    const raw: RawEntry = { stream, id, fields, deliveries: 1, ...(repeated ? { repeated } : {}) };
    if (!k) {
      out.bad.push({ raw, reason: 'entry id: sequence number too large to order (input ids must come from *)' });
      continue;
    }
    if (twice !== undefined) {
      // XADD … user alice user bob: which is the subject? Refused rather than guessed.
      out.bad.push({ raw, reason: `field ${JSON.stringify(twice.slice(0, 64))}: given more than once in the entry` });
      continue;
    }
    if (how.control) {
      const c = decodeControl(fields);
      if (typeof c === 'string') out.bad.push({ raw, reason: c });
      else out.held.push({ key: k, ref: { stream, id }, control: c });
      continue;
    }
    let d: ReturnType<RouterParts['decode']>;
    try {
      // Judged (time bounds) at the entry's arrival, as it is applied: a backlog changes no verdict.
      d = how.decode(raw, arrivalOf([k.ms, k.seq], now));
    } catch (err) {
      d = { ok: false, reason: `decode_failed: ${(err as { code?: string }).code ?? 'INTERNAL'}` };
    }
    if (d.ok) out.held.push({ key: k, ref: { stream, id }, event: d.event });
    else out.bad.push({ raw, reason: d.reason });
  }
  if (read) {
    out.report.read += read;
    out.report.readByStream[stream] = (out.report.readByStream[stream] ?? 0) + read;
  }
  return key;
}

/**
 * Takes, from every stream's held entries, those at or below the watermark `mark`, in order-key
 * order; what stays is counted in `report.buffered`.
 */
export function releaseBelow(held: Map<string, Held[]>, mark: OrderKey, report: RouteReport): Held[] {
  const routable: Held[] = [];
  for (const [stream, list] of held) {
    let n = 0;
    while (n < list.length && compareKeys(list[n]!.key, mark) <= 0) n++;
    routable.push(...list.slice(0, n));
    held.set(stream, list.slice(n));
    report.buffered += list.length - n;
  }
  return routable.sort((a, b) => compareKeys(a.key, b.key));
}

/** Appends `v` to the list of `k` in `m`. */
export function pushTo(m: Map<string, string[]>, k: string, v: string): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
