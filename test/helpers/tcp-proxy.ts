import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/obs/logger.js';
import { connect as connectWorker } from '../../src/runtime/connections.js';
import { REDIS_URL } from './redis.js';

/** A loopback TCP proxy that a test can turn into a black hole (issue 14, shutdown). */
export interface TcpProxy {
  /** `host:port` to connect to instead of the target. */
  port: number;
  /**
   * Cuts every open connection and from now on accepts connections but never forwards or
   * answers: the target looks unreachable to the proxy's clients only.
   */
  blackhole(): void;
  /**
   * Holds every byte in both directions, the connections left open (a Redis that is stalled or
   * partitioned away without a reset: its clients stay "connected" and get no answer) until {@link resume}.
   */
  stall(): void;
  /** Forwards again, what was held first. */
  resume(): void;
  /**
   * Arms a one-time cut: the next client write that `match`es is forwarded (the target runs it),
   * then the target's next answer on that connection is swallowed and both sides are cut — a
   * connection lost after the command ran and before its reply. Resolves once cut.
   */
  cutAfterRun(match: (sent: Buffer) => boolean): Promise<void>;
  /**
   * Arms a one-time hold of one connection: from the next client write that `match`es, what that
   * connection sends is kept here and never forwarded (a command that never reaches the target, its
   * connection left open); other connections, and new ones, go on. Resolves once it matched;
   * {@link heldBytes} gives what was kept.
   */
  holdConnection(match: (sent: Buffer) => boolean): Promise<void>;
  /** The bytes {@link holdConnection} kept, in order. */
  heldBytes(): Buffer;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 (any free port) in front of `target` (loopback host and port).
 * `stallWhen`: a client's chunk for which it returns true stalls the proxy ({@link TcpProxy.stall})
 * before that chunk is forwarded (a Redis that stops answering at a given command). `stallAfter`:
 * the same, but the chunk is forwarded first (the command runs; its reply is held: a reply delayed
 * on its way back).
 */
export async function startTcpProxy(
  target: { host: string; port: number },
  opts: { stallWhen?: (chunk: Buffer) => boolean; stallAfter?: (chunk: Buffer) => boolean } = {},
): Promise<TcpProxy> {
  if (!/^(127\.|::1$|localhost$)/.test(target.host)) throw new Error(`tcp proxy: loopback targets only (got ${target.host})`);
  const sockets = new Set<Socket>();
  let dead = false;
  let stalled = false;
  const held: Array<() => void> = [];
  let armed: { match: (sent: Buffer) => boolean; cut: () => void } | undefined;
  // Sockets whose next answer is to be swallowed (the cut of cutAfterRun), with the cut's callback.
  const cutting = new Map<Socket, () => void>();
  // holdConnection: the armed match, the connection held and what it sent.
  let holding: { match: (sent: Buffer) => boolean; matched: () => void } | undefined;
  let heldSocket: Socket | undefined;
  const kept: Buffer[] = [];
  // Forwards `from` to `to`, holding the data while stalled.
  const forward = (from: Socket, to: Socket, upstream: boolean): void =>
    void from.on('data', (d: Buffer) => {
      if (upstream) {
        const cut = cutting.get(from);
        if (cut) {
          cutting.delete(from);
          from.destroy();
          to.destroy();
          cut();
          return;
        }
      } else {
        if (!heldSocket && holding?.match(d)) {
          heldSocket = from;
          holding.matched();
        }
        if (heldSocket === from) return void kept.push(Buffer.from(d));
        if (armed?.match(d)) {
          cutting.set(to, armed.cut);
          armed = undefined;
        }
        if (!stalled && opts.stallWhen?.(d)) stalled = true;
        if (!stalled && opts.stallAfter?.(d)) {
          to.write(d);
          stalled = true;
          return;
        }
      }
      if (stalled) held.push(() => to.write(d));
      else to.write(d);
    });
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (dead) {
      client.resume(); // swallow whatever the client sends; never answer
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    forward(client, upstream, false);
    forward(upstream, client, true);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tcp proxy: no port');
  return {
    port: address.port,
    blackhole: () => {
      dead = true;
      for (const s of sockets) s.destroy();
    },
    stall: () => {
      stalled = true;
    },
    cutAfterRun: (match) => new Promise<void>((cut) => (armed = { match, cut })),
    holdConnection: (match) => new Promise<void>((matched) => (holding = { match, matched })),
    heldBytes: () => Buffer.concat(kept),
    resume: () => {
      stalled = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A loopback proxy in front of the test Redis (REDIS_URL), `opts` as {@link startTcpProxy}'s, and
 * the Redis URL through it (the same database): for a worker process's `REDIS_URL` or a client.
 */
export async function proxyTestRedis(opts: Parameters<typeof startTcpProxy>[1] = {}): Promise<{ proxy: TcpProxy; url: string }> {
  const u = new URL(REDIS_URL);
  const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) }, opts);
  return { proxy, url: `redis://127.0.0.1:${proxy.port}${u.pathname}` };
}

/**
 * A loopback proxy in front of the test Redis (REDIS_URL) and a client through it with the
 * worker's own connection options (reconnect, queue while reconnecting, resend unanswered
 * commands), named `name`: what a dropped connection does to the worker's writes is tried on it.
 */
export async function proxiedWorkerClient(name: string): Promise<{ proxy: TcpProxy; worker: Redis; close(): Promise<void> }> {
  const { proxy, url } = await proxyTestRedis();
  const worker = connectWorker(url, createLogger('silent'), name) as Redis;
  return {
    proxy,
    worker,
    async close() {
      worker.disconnect();
      await proxy.close();
    },
  };
}
