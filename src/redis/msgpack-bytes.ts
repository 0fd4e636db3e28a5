/**
 * MessagePack's byte-level writers shared by `MsgWriter` (msgpack-writer.ts): a number exactly as msgpackr
 * writes it (`useFloat32: DECIMAL_FIT`), short strings' UTF-8, and array and `str` headers. Each
 * writes at a position in a buffer with room enough and returns the end.
 */

/** msgpackr's table of binary exponents to decimal multipliers (float32 `DECIMAL_FIT`). */
const MULT10: number[] = [];
for (let i = 0; i < 256; i++) MULT10[i] = +('1e' + Math.floor(45.15 - i * 0.30103));

/** Writes `v` at `pos` (9 bytes of room) as msgpackr packs it; returns the end. */
export function numberInto(b: Buffer, dv: DataView, pos: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) b[pos++] = v;
    else if (v < 0x100) {
      b[pos++] = 0xcc;
      b[pos++] = v;
    } else if (v < 0x10000) {
      b[pos++] = 0xcd;
      b[pos++] = v >> 8;
      b[pos++] = v & 0xff;
    } else {
      b[pos++] = 0xce;
      dv.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) b[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      b[pos++] = 0xd0;
      b[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      b[pos++] = 0xd1;
      dv.setInt16(pos, v);
      pos += 2;
    } else {
      b[pos++] = 0xd2;
      dv.setInt32(pos, v);
      pos += 4;
    }
  } else {
    if (v < 0x100000000 && v >= -0x80000000) {
      dv.setFloat32(pos + 1, v);
      const shifted = v * MULT10[((b[pos + 1]! & 0x7f) << 1) | (b[pos + 2]! >> 7)]!;
      if (shifted >> 0 === shifted) {
        b[pos] = 0xca;
        pos += 5;
        return pos;
      }
    }
    b[pos] = 0xcb;
    dv.setFloat64(pos + 1, v);
    pos += 9;
  }
  return pos;
}

/**
 * Writes `s` (under 64 chars) as UTF-8 at `at`; returns the end. A lone surrogate is replaced
 * (`replace`, as Buffer.write) or encoded in 3 bytes as is (as msgpackr).
 */
export function utf8Into(b: Buffer, s: string, at: number, replace: boolean): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[at++] = c;
    else if (c < 0x800) {
      b[at++] = (c >> 6) | 0xc0;
      b[at++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      b[at++] = (c >> 18) | 0xf0;
      b[at++] = ((c >> 12) & 0x3f) | 0x80;
      b[at++] = ((c >> 6) & 0x3f) | 0x80;
      b[at++] = (c & 0x3f) | 0x80;
    } else {
      if (replace && (c & 0xf800) === 0xd800) c = 0xfffd;
      b[at++] = (c >> 12) | 0xe0;
      b[at++] = ((c >> 6) & 0x3f) | 0x80;
      b[at++] = (c & 0x3f) | 0x80;
    }
  }
  return at;
}

/** Writes a minimal array header of `n` elements at `pos` (5 bytes of room); returns the end. */
export function arrayHeaderInto(b: Buffer, dv: DataView, pos: number, n: number): number {
  if (n < 16) b[pos++] = 0x90 | n;
  else if (n < 0x10000) {
    b[pos] = 0xdc;
    b[pos + 1] = n >> 8;
    b[pos + 2] = n & 0xff;
    pos += 3;
  } else {
    b[pos] = 0xdd;
    dv.setUint32(pos + 1, n);
    pos += 5;
  }
  return pos;
}

/** Writes a minimal `str` header of `n` bytes at `pos` (5 bytes of room); returns the end. */
export function strHeaderInto(b: Buffer, dv: DataView, pos: number, n: number): number {
  if (n < 32) b[pos++] = 0xa0 | n;
  else if (n < 0x100) {
    b[pos] = 0xd9;
    b[pos + 1] = n;
    pos += 2;
  } else if (n < 0x10000) {
    b[pos] = 0xda;
    b[pos + 1] = n >> 8;
    b[pos + 2] = n & 0xff;
    pos += 3;
  } else {
    b[pos] = 0xdb;
    dv.setUint32(pos + 1, n);
    pos += 5;
  }
  return pos;
}
