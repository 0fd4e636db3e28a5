/**
 * A MessagePack writer into one growable scratch buffer, for the commit's hot path: the commit
 * script's commands and the states they store are written in one pass, with no buffer per state
 * or argument and no copy between them (the copies of small buffers were a large part of the
 * owner's garbage and of its `Buffer` copy time).
 *
 * Two flavours of strings: {@link MsgWriter.str} for command arguments (also `packOps`'s)
 * (UTF-8 with a lone surrogate replaced, as `Buffer.write`), and {@link MsgWriter.value} exactly
 * as msgpackr packs with `useRecords: false`, `moreTypes: false` and `useFloat32: DECIMAL_FIT`
 * (the stored state format: byte-identical, tested against msgpackr). `value` throws
 * {@link UNSUPPORTED} on what it does not write as msgpackr would (a Map, a Date, a bigint, a
 * class instance …): the caller then packs with msgpackr.
 */
import { arrayHeaderInto, numberInto, strHeaderInto, utf8Into } from './msgpack-bytes.js';

export const UNSUPPORTED = Symbol('msgpack-writer: unsupported value');

/** A growable MessagePack output; `reset()` before each use, `copy()` to keep the result. */
export class MsgWriter {
  private buf: Buffer;
  private dv: DataView;
  pos = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Bytes the scratch buffer holds (it grows, never shrinks). */
  get capacity(): number {
    return this.buf.length;
  }

  reset(at = 0): void {
    this.pos = at;
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** Bytes `[from, pos)`, not copied: valid until the writer is reset or grows. */
  view(from = 0): Buffer {
    return this.buf.subarray(from, this.pos);
  }

  /** A copy of bytes `[from, pos)` (the scratch buffer is reused). */
  copy(from = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - from);
    out.set(this.buf.subarray(from, this.pos));
    return out;
  }

  /** An array header of `n` elements. */
  arrayHeader(n: number): void {
    this.ensure(5);
    this.pos = arrayHeaderInto(this.buf, this.dv, this.pos, n);
  }

  /** A map16 header of `n` entries (msgpackr writes every plain object so). */
  mapHeader16(n: number): void {
    this.ensure(3);
    this.buf[this.pos] = 0xde;
    this.buf[this.pos + 1] = n >> 8;
    this.buf[this.pos + 2] = n & 0xff;
    this.pos += 3;
  }

  /**
   * Writes a minimal array header of `n` elements ending at `end` (space reserved before the
   * elements, at most 5 bytes); returns where it starts.
   */
  arrayHeaderBefore(end: number, n: number): number {
    const size = n < 16 ? 1 : n < 0x10000 ? 3 : 5;
    const at = this.pos;
    this.pos = end - size;
    this.arrayHeader(n);
    this.pos = at;
    return end - size;
  }

  /** A command argument: a `str` of its UTF-8 (lone surrogates replaced, as Buffer.write). */
  str(s: string): void {
    const n = s.length;
    if (n >= 64) {
      // At least n bytes: the header for n, moved when the UTF-8 needs a larger one.
      const header = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
      this.ensure(header + n * 3);
      const start = this.pos;
      const end = start + header + this.buf.write(s, start + header, n * 3, 'utf8');
      this.fixStrHeader(start, end, header);
      return;
    }
    this.ensure(2 + n * 3);
    const start = this.pos;
    const end = utf8Into(this.buf, s, start + 1, true);
    this.fixStrHeader(start, end, 1);
  }

  /** Copies bytes `[from, to)` already written to the end (a string written twice). */
  repeat(from: number, to: number): void {
    this.ensure(to - from);
    this.buf.copyWithin(this.pos, from, to);
    this.pos += to - from;
  }

  /** Raw bytes (already MessagePack). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Starts a `str` whose content is written next (its length unknown yet): 3 bytes reserved for
   * its header; {@link endStr} with the returned start writes it (moving the content when another
   * header size fits).
   */
  beginStr(): number {
    this.ensure(3);
    const start = this.pos;
    this.pos += 3;
    return start;
  }

  /** Ends the `str` begun at `start`. */
  endStr(start: number): void {
    this.fixStrHeader(start, this.pos, 3);
  }

  /** A `str` header of `n` bytes. */
  private strHeader(n: number): void {
    this.ensure(5);
    this.pos = strHeaderInto(this.buf, this.dv, this.pos, n);
  }

  /** Content was written at `start + reserved` up to `end`: writes the header, moving the content to fit it. */
  private fixStrHeader(start: number, end: number, reserved: number): void {
    const n = end - start - reserved;
    const size = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (size !== reserved) {
      this.pos = end;
      this.ensure(size - reserved);
      this.buf.copyWithin(start + size, start + reserved, end);
    }
    this.pos = start;
    this.strHeader(n);
    this.pos += n;
  }

  /** `v` exactly as msgpackr packs it (see the module's note); throws {@link UNSUPPORTED}. */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.valueStr(v);
      case 'number':
        return this.num(v);
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.ensure(3);
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = 0;
        this.buf[this.pos++] = 0;
        return;
      case 'object': {
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
          return;
        }
        const c = (v as object).constructor;
        if (c === Object) return this.object(v as Record<string, unknown>);
        if (c === Array) {
          const a = v as unknown[];
          this.arrayHeader(a.length);
          for (let i = 0; i < a.length; i++) this.value(a[i]);
          return;
        }
        throw UNSUPPORTED;
      }
      default:
        throw UNSUPPORTED;
    }
  }

  /** A plain object: msgpackr's fast writer, always a map16, own enumerable keys in `for … in` order. */
  private object(o: Record<string, unknown>): void {
    this.ensure(3);
    const at = this.pos;
    this.buf[at] = 0xde;
    this.pos += 3;
    let size = 0;
    for (const key in o) {
      if (typeof o.hasOwnProperty !== 'function' || Object.prototype.hasOwnProperty.call(o, key)) {
        this.valueStr(key);
        this.value(o[key]);
        size++;
      }
    }
    if (size > 0xffff) throw UNSUPPORTED;
    this.buf[at + 1] = size >> 8;
    this.buf[at + 2] = size & 0xff;
  }

  /** A string as msgpackr writes it: its own UTF-8 loop under 64 chars (lone surrogates kept), else Buffer's. */
  private valueStr(s: string): void {
    const n = s.length;
    const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    this.ensure(header + n * 3 + 5);
    const start = this.pos;
    const end = n < 0x40 ? utf8Into(this.buf, s, start + header, false) : start + header + this.buf.write(s, start + header, n * 3, 'utf8');
    this.fixStrHeader(start, end, header);
  }

  private num(v: number): void {
    this.ensure(9);
    this.pos = numberInto(this.buf, this.dv, this.pos, v);
  }
}
