import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { RiskstreamError } from '../errors.js';
import { splitBody } from './body-records.js';

/** The file name that reads standard input (`riskstream replay -`). */
export const STDIN = '-';

/** One line of a replayed file: its number (1-based, blank lines counted) and its records. */
export interface ReplayLine {
  line: number;
  records: string[];
}

/**
 * A line's records, as `POST /v1/events` reads an NDJSON line (src/ingest/body-records.ts): a JSON
 * array is its elements (one level), a wrapper object (`{"records":[…]}` …, no `user`) its
 * elements, objects back to back (`{…}{…}`) each one; any other line (one event, a broken array,
 * text) is itself — the worker dead-letters what is not an event.
 */
export function lineRecords(line: string): string[] {
  try {
    const b = splitBody(line);
    const out: string[] = [];
    for (let i = 0; i < b.spans.length; i += 2) out.push(b.text.slice(b.spans[i], b.spans[i + 1]));
    return out;
  } catch {
    return [line];
  }
}

/** Why a record is no event object (`not JSON`, `a JSON array` …), or undefined for an object. */
export function notAnObject(record: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(record);
  } catch {
    return 'not JSON';
  }
  if (Array.isArray(v)) return 'a JSON array, not an event object';
  return typeof v === 'object' && v !== null ? undefined : `a JSON ${v === null ? 'null' : typeof v}, not an event object`;
}

/**
 * The lines of `file` (`-`: standard input) from line `from` on, each with its records, read as a
 * stream (never held whole; a FIFO works too): gzip (by its first bytes) decompressed, a leading
 * UTF-8 BOM dropped, blank lines counted but not yielded. `signal` ends the reading (a line waited
 * for included). A read failure is `NOT_FOUND`.
 */
export async function* readReplayLines(file: string, from = 1, signal?: AbortSignal): AsyncGenerator<ReplayLine> {
  try {
    const raw = file === STDIN ? process.stdin : createReadStream(file);
    const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // The first bytes may be long in coming (stdin, a FIFO whose writer is quiet): `signal` ends that wait too.
    const head = await untilAborted(chunks.next(), signal);
    if (!head || head.done) {
      raw.destroy();
      return;
    }
    const rest = Readable.from(
      (async function* () {
        yield head.value;
        for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value;
      })(),
    );
    const input = head.value[0] === 0x1f && head.value[1] === 0x8b ? rest.pipe(createGunzip()) : rest;
    rest.on('error', (err) => input.destroy(err));
    const rl = createInterface({ input, crlfDelay: Infinity });
    const stop = (): void => rl.close();
    signal?.addEventListener('abort', stop, { once: true });
    let n = 0;
    try {
      for await (const text of rl) {
        n++;
        if (signal?.aborted) return;
        const l = n === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
        if (n >= from && l.trim()) yield { line: n, records: lineRecords(l) };
      }
    } finally {
      // Left early (stopped, a failed append): the reading ends quietly, downstream first.
      signal?.removeEventListener('abort', stop);
      rl.close();
      input.destroy();
      rest.destroy();
      // stdin too: a writer still holding it open would otherwise keep the process from exiting.
      raw.destroy();
    }
  } catch (e) {
    throw new RiskstreamError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** `p`, or undefined once `signal` aborts (at once when it has). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  let stop = (): void => undefined;
  const aborted = new Promise<undefined>((resolve) => {
    stop = () => resolve(undefined);
    signal.addEventListener('abort', stop, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', stop));
}

/** What {@link withIdle} yields when its source gave nothing for a while. */
export const IDLE = Symbol('idle');

/**
 * The items of `source`, and {@link IDLE} once the next has been awaited `idleMs` or more (input
 * that pauses: stdin or a FIFO fed live), so that the consumer can act on what it holds rather than
 * wait for more. `stop` is called first when the consumer leaves early: it must end the source's
 * wait for its next item (whose own return would wait for that item).
 */
export async function* withIdle<T>(source: AsyncIterable<T>, idleMs: number, stop: () => void): AsyncGenerator<T | typeof IDLE> {
  const it = source[Symbol.asyncIterator]();
  let since = Date.now();
  const none = (): void => undefined;
  let fire = none;
  const timer = setInterval(() => Date.now() - since >= idleMs && fire(), Math.max(1, idleMs / 2));
  let done = false;
  try {
    for (;;) {
      since = Date.now(); // the wait for the next item starts now (not while the consumer was busy)
      const next = it.next();
      // A promise of its own for each wait (one kept for all would gather a reaction per item).
      let r = await Promise.race([next, new Promise<typeof IDLE>((resolve) => (fire = () => resolve(IDLE)))]);
      fire = none;
      if (r === IDLE) {
        yield IDLE;
        r = await next;
      }
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    clearInterval(timer);
    if (!done) {
      stop();
      await it.return?.();
    }
  }
}
