/**
 * MessagePack of an array of commands, every argument as a `str` (Redis's Lua `cmsgpack` has no
 * `bin` type; its strings are binary-safe, so a MessagePack state blob travels as one).
 */
export function packOps(ops: ReadonlyArray<ReadonlyArray<string | Buffer>>): Buffer {
  const parts: Buffer[] = [arrayHeader(ops.length)];
  for (const op of ops) {
    parts.push(arrayHeader(op.length));
    for (const a of op) {
      const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
      parts.push(strHeader(b.length), b);
    }
  }
  return Buffer.concat(parts);
}

function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x90 | n]);
  if (n < 0x10000) return Buffer.from([0xdc, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xdd;
  b.writeUInt32BE(n, 1);
  return b;
}

function strHeader(n: number): Buffer {
  if (n < 32) return Buffer.from([0xa0 | n]);
  if (n < 0x100) return Buffer.from([0xd9, n]);
  if (n < 0x10000) return Buffer.from([0xda, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xdb;
  b.writeUInt32BE(n, 1);
  return b;
}
