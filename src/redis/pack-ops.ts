/**
 * MessagePack of an array of commands, every argument as a `str` (Redis's Lua `cmsgpack` has no
 * `bin` type; its strings are binary-safe, so a MessagePack state blob travels as one).
 * Sized first, then written into one buffer: no buffer per argument and header, no concat (a
 * commit packs thousands of arguments; the small buffers were a tenth of the worker's garbage).
 */
export function packOps(ops: ReadonlyArray<ReadonlyArray<string | Buffer>>): Buffer {
  const lengths: number[] = [];
  let size = arrayHeaderSize(ops.length);
  for (const op of ops) {
    size += arrayHeaderSize(op.length);
    for (const a of op) {
      const n = typeof a === 'string' ? Buffer.byteLength(a, 'utf8') : a.length;
      lengths.push(n);
      size += strHeaderSize(n) + n;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = writeArrayHeader(out, 0, ops.length);
  let i = 0;
  for (const op of ops) {
    at = writeArrayHeader(out, at, op.length);
    for (const a of op) {
      const n = lengths[i++]!;
      at = writeStrHeader(out, at, n);
      at += typeof a === 'string' ? out.write(a, at, n, 'utf8') : a.copy(out, at);
    }
  }
  return out;
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

function writeArrayHeader(b: Buffer, at: number, n: number): number {
  if (n < 16) {
    b[at] = 0x90 | n;
    return at + 1;
  }
  if (n < 0x10000) {
    b[at] = 0xdc;
    return b.writeUInt16BE(n, at + 1);
  }
  b[at] = 0xdd;
  return b.writeUInt32BE(n, at + 1);
}

function writeStrHeader(b: Buffer, at: number, n: number): number {
  if (n < 32) {
    b[at] = 0xa0 | n;
    return at + 1;
  }
  if (n < 0x100) {
    b[at] = 0xd9;
    b[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    b[at] = 0xda;
    return b.writeUInt16BE(n, at + 1);
  }
  b[at] = 0xdb;
  return b.writeUInt32BE(n, at + 1);
}
