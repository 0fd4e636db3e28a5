import { MsgWriter } from './msgpack-writer.js';

/**
 * MessagePack of an array of commands, every argument as a `str` (Redis's Lua `cmsgpack` has no
 * `bin` type; its strings are binary-safe, so a MessagePack state blob travels as one), written
 * by {@link MsgWriter} into one buffer: no buffer per argument and header, no concat.
 */
export function packOps(ops: ReadonlyArray<ReadonlyArray<string | Buffer>>): Buffer {
  const w = new MsgWriter(1024);
  w.arrayHeader(ops.length);
  for (const op of ops) {
    w.arrayHeader(op.length);
    for (const a of op) {
      if (typeof a === 'string') w.str(a);
      else {
        const start = w.beginStr();
        w.raw(a);
        w.endStr(start);
      }
    }
  }
  return w.copy();
}
