import { Socket } from 'node:net';
import { Command } from 'ioredis';

/**
 * Large Buffer arguments written to the socket as they are, not copied into one buffer per command.
 *
 * ioredis turns a command with a Buffer argument into a single Buffer (`Command#toWritable`): a
 * commit's packed commands — tens to hundreds of KB — were allocated and copied once more per
 * commit (≈ 4 % of the owner thread end to end). A Buffer passed through {@link zeroCopy} is instead
 * written straight to the socket, between the command's header and the rest, when its command is
 * issued by {@link directSend} (as `directPipeline()` in client.ts does) on a corked socket: the
 * pieces then leave in one `writev`, in order, with nothing of another command between them, since
 * nothing else runs meanwhile. Anywhere else — an ioredis pipeline or MULTI (which buffer what
 * `toWritable` returns and write it later, even when run on a corked socket), auto-pipelining, a
 * socket not corked, a cluster's node, a resend after a reconnect — the command is written as
 * ioredis always does.
 *
 * The caller keeps the Buffer unchanged until the command is answered (as it must anyway: ioredis
 * resends unanswered commands after a reconnect).
 */
const marked = new WeakSet<Buffer>();

type Writable = { name: string; args: Array<string | Buffer>; bufferMode?: boolean };
type ToWritable = (this: Writable, socket: unknown) => string | Buffer;

const proto = Command.prototype as unknown as { toWritable: ToWritable };
const original = proto.toWritable;
let installed = false;
/** > 0 while {@link directSend} issues commands. */
let direct = 0;

function install(): void {
  if (installed) return;
  installed = true;
  proto.toWritable = function toWritable(this: Writable, socket: unknown): string | Buffer {
    if (
      direct === 0 ||
      !this.bufferMode ||
      !(socket instanceof Socket) ||
      socket.writableCorked === 0 ||
      !this.args.some((a) => typeof a !== 'string' && marked.has(a))
    )
      return original.call(this, socket);
    let text = `*${this.args.length + 1}\r\n$${Buffer.byteLength(this.name)}\r\n${this.name}\r\n`;
    for (const a of this.args) {
      if (typeof a === 'string') text += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      else {
        socket.write(`${text}$${a.length}\r\n`);
        if (a.length) socket.write(a);
        text = '\r\n';
      }
    }
    return text;
  };
}

/** Marks `buf` to be written without a copy (see the module's doc); returns it. */
export function zeroCopy(buf: Buffer): Buffer {
  install();
  marked.add(buf);
  return buf;
}

/**
 * Runs `issue`, which sends commands each straight to its connection (one node's `sendCommand`,
 * never through an ioredis pipeline or MULTI): only commands issued so may write a
 * {@link zeroCopy} buffer to a corked socket as it is.
 */
export function directSend<T>(issue: () => T): T {
  direct++;
  try {
    return issue();
  } finally {
    direct--;
  }
}
