/**
 * A MessagePack writer for plain data that produces exactly the bytes of the state codec's msgpackr
 * `Packr` (`useRecords: false`, `useFloat32: DECIMAL_FIT`): maps as `map16`, integers in their
 * smallest form, non-integers as float32 when that keeps their decimal digits, `undefined` as
 * `fixext1 0 0`, strings of < 64 chars encoded by msgpackr's own loop (lone surrogates included).
 * It skips msgpackr's generic per-value dispatch (records, extensions, bundles, references), which
 * cost more than the rest of a commit. Anything else (a Map, a Date, a Buffer, a bigint, an object
 * without `Object` as constructor) makes {@link packPlain} return undefined: the caller falls back
 * to msgpackr itself.
 */

/** msgpackr's table from a float32 exponent to the multiplier that tests its decimal digits. */
const MULT10: number[] = [];
for (let i = 0; i < 256; i++) MULT10[i] = +('1e' + Math.floor(45.15 - i * 0.30103));

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** Thrown inside the writer when a value needs msgpackr; never escapes {@link packPlain}. */
const UNSUPPORTED = new Error('unsupported by the plain writer');

/** Slab size: values are written one after another into a slab and returned as views of it (as msgpackr does). */
const SLAB = 16 * 1024;
let buf = Buffer.allocUnsafeSlow(SLAB);
let view = new DataView(buf.buffer, buf.byteOffset, buf.length);
/** Where the value being written starts, and the write position. */
let start = 0;
let pos = 0;

/** Makes room for `n` more bytes in a new slab, moving the value written so far; callers check `pos + n > buf.length` first. */
function grow(n: number): void {
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB, 2 * (pos - start + n)));
  buf.copy(next, 0, start, pos);
  pos -= start;
  start = 0;
  buf = next;
  view = new DataView(buf.buffer, buf.byteOffset, buf.length);
}

function writeString(s: string): void {
  const len = s.length;
  if (pos + len * 3 + 5 > buf.length) grow(len * 3 + 5);
  const header = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
  let n: number;
  if (len < 0x40) {
    let at = pos + header;
    for (let i = 0; i < len; i++) {
      let c1 = s.charCodeAt(i);
      let c2: number;
      if (c1 < 0x80) {
        buf[at++] = c1;
      } else if (c1 < 0x800) {
        buf[at++] = (c1 >> 6) | 0xc0;
        buf[at++] = (c1 & 0x3f) | 0x80;
      } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
        c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
        i++;
        buf[at++] = (c1 >> 18) | 0xf0;
        buf[at++] = ((c1 >> 12) & 0x3f) | 0x80;
        buf[at++] = ((c1 >> 6) & 0x3f) | 0x80;
        buf[at++] = (c1 & 0x3f) | 0x80;
      } else {
        buf[at++] = (c1 >> 12) | 0xe0;
        buf[at++] = ((c1 >> 6) & 0x3f) | 0x80;
        buf[at++] = (c1 & 0x3f) | 0x80;
      }
    }
    n = at - pos - header;
  } else {
    n = buf.write(s, pos + header, buf.length - pos - header, 'utf8');
  }
  // The header is sized by the byte length; move the bytes when it is longer than assumed.
  if (n < 0x20) {
    buf[pos++] = 0xa0 | n;
  } else if (n < 0x100) {
    if (header < 2) buf.copyWithin(pos + 2, pos + 1, pos + 1 + n);
    buf[pos++] = 0xd9;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    if (header < 3) buf.copyWithin(pos + 3, pos + header, pos + header + n);
    buf[pos++] = 0xda;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    if (header < 5) buf.copyWithin(pos + 5, pos + header, pos + header + n);
    buf[pos++] = 0xdb;
    view.setUint32(pos, n);
    pos += 4;
  }
  pos += n;
}

function writeNumber(v: number): void {
  if (pos + 9 > buf.length) grow(9);
  if (v >>> 0 === v) {
    if (v < 0x80) {
      buf[pos++] = v;
    } else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = v >> 8;
      buf[pos++] = v & 0xff;
    } else {
      buf[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) {
      buf[pos++] = 0x100 + v;
    } else if (v >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else {
    if (v < 0x100000000 && v >= -0x80000000) {
      view.setFloat32(pos + 1, v);
      const shifted = v * MULT10[((buf[pos + 1]! & 0x7f) << 1) | (buf[pos + 2]! >> 7)]!;
      if (shifted >> 0 === shifted) {
        buf[pos] = 0xca;
        pos += 5;
        return;
      }
    }
    buf[pos] = 0xcb;
    view.setFloat64(pos + 1, v);
    pos += 9;
  }
}

function writeArray(a: readonly unknown[]): void {
  const n = a.length;
  if (pos + 5 > buf.length) grow(5);
  if (n < 0x10) {
    buf[pos++] = 0x90 | n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdd;
    view.setUint32(pos, n);
    pos += 4;
  }
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v === 'number') writeNumber(v);
    else if (typeof v === 'string') writeString(v);
    else write(v);
  }
}

function writeObject(o: Record<string, unknown>): void {
  // msgpackr trusts `hasOwnProperty` of the object itself: leave an object that overrides it to msgpackr.
  if (o.hasOwnProperty !== hasOwnProperty) throw UNSUPPORTED;
  if (pos + 3 > buf.length) grow(3);
  buf[pos] = 0xde;
  const sizeAt = pos + 1 - start; // relative: a new slab moves the value
  pos += 3;
  let size = 0;
  for (const key in o) {
    if (!hasOwnProperty.call(o, key)) continue;
    writeString(key);
    const v = o[key];
    if (typeof v === 'number') writeNumber(v);
    else if (typeof v === 'string') writeString(v);
    else write(v);
    size++;
  }
  if (size > 0xffff) throw UNSUPPORTED; // msgpackr throws its own error for this
  buf[start + sizeAt] = size >> 8;
  buf[start + sizeAt + 1] = size & 0xff;
}

function write(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      return writeNumber(v);
    case 'boolean':
      if (pos + 1 > buf.length) grow(1);
      buf[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      if (pos + 3 > buf.length) grow(3);
      buf[pos++] = 0xd4;
      buf[pos++] = 0;
      buf[pos++] = 0;
      return;
    case 'object': {
      if (v === null) {
        if (pos + 1 > buf.length) grow(1);
        buf[pos++] = 0xc0;
        return;
      }
      const c: unknown = v.constructor;
      if (c === Array) return writeArray(v as unknown[]);
      if (c === Object) return writeObject(v as Record<string, unknown>);
      throw UNSUPPORTED;
    }
    default:
      throw UNSUPPORTED;
  }
}

/**
 * `value` as msgpackr's bytes (see the file comment), a view of the slab it was written to (never
 * written again); undefined when it holds a value only msgpackr encodes.
 */
export function packPlain(value: unknown): Buffer | undefined {
  start = pos;
  if (buf.length - pos < 2048) grow(2048);
  try {
    write(value);
  } catch (err) {
    pos = start;
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
  return buf.subarray(start, pos);
}
