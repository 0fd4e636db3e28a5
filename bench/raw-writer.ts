/**
 * The latency bench's load generator: XADDs encoded once, before the run, and written as raw RESP
 * on a plain socket, one write per tick. The generator shares this machine's two cores with the
 * worker and Redis; through a client library it spent ≈ 50 µs of CPU per XADD (a quarter of a
 * core at 5 000 events/s), which a real deployment's shippers spend on their own machines. Replies
 * are only counted and checked for errors.
 */
import { connect, type Socket } from 'node:net';
import { REDIS_URL } from './lib.js';

/** XADDs `stream * event <json>` as RESP, back to back in one buffer; command i is bytes [at[i], at[i + 1]). */
export function encodeXadds(adds: ReadonlyArray<{ stream: string; json: string }>): { bytes: Buffer; at: number[] } {
  const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  const parts = adds.map((a) => Buffer.from(`*5\r\n${bulk('XADD')}${bulk(a.stream)}${bulk('*')}${bulk('event')}${bulk(a.json)}`));
  const at = [0];
  for (const p of parts) at.push(at[at.length - 1]! + p.length);
  return { bytes: Buffer.concat(parts), at };
}

/** A raw connection writing pre-encoded commands whose replies are single-line or bulk strings. */
export class RawWriter {
  private constructor(
    private readonly socket: Socket,
    private readonly state: { pending: number; error: string | null; buf: Buffer; drained: Array<() => void> },
  ) {}

  static async open(): Promise<RawWriter> {
    const url = new URL(REDIS_URL);
    const socket = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const w = new RawWriter(socket, { pending: 0, error: null, buf: Buffer.alloc(0), drained: [] });
    socket.on('data', (chunk) => w.onData(chunk));
    return w;
  }

  /** Writes `count` encoded commands (one write); their replies are awaited by {@link drain}. */
  send(bytes: Buffer, count: number): void {
    if (this.state.error) throw new Error(`bench load: Redis replied ${this.state.error}`);
    if (!count) return;
    this.state.pending += count;
    this.socket.write(bytes);
  }

  /** Resolves once every command sent has its reply. */
  drain(): Promise<void> {
    if (this.state.pending === 0) return Promise.resolve();
    return new Promise((r) => this.state.drained.push(r));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const s = this.state;
    const buf = s.buf.length ? Buffer.concat([s.buf, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) break;
      const kind = buf[at];
      if (kind === 0x24 /* $ */) {
        const len = Number(buf.toString('latin1', at + 1, eol));
        const end = len < 0 ? eol + 2 : eol + 2 + len + 2;
        if (end > buf.length) break;
        at = end;
      } else {
        if (kind === 0x2d /* - */) s.error ??= buf.toString('utf8', at + 1, eol);
        at = eol + 2;
      }
      s.pending--;
    }
    s.buf = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
    if (s.pending === 0) for (const r of s.drained.splice(0)) r();
  }
}
