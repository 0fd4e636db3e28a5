import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './redis.js';

/** A redis-server of a test's own (no persistence unless `rdb`), to stall (`SIGSTOP`), kill or restart without touching the shared one. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** A client that waits (never fails) while the server is away. */
  client: Redis;
  /** `SIGSTOP`: the server keeps its connections open and answers nothing. */
  stall(): void;
  /** `SIGCONT`: it answers again. */
  resume(): void;
  /** `kill -9` (resumed first if stalled), waiting for its exit; the port, the client and the RDB stay for {@link restart}. */
  kill(): Promise<void>;
  /**
   * Kills it if it runs, starts it again on the same port and waits for its PONG: empty, or with
   * `rdb` from the snapshot last written there (`SAVE`).
   */
  restart(): Promise<void>;
  /** Resumes it if stalled, kills it and waits for its exit; removes its RDB dir. */
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** An RDB in a temp dir of its own (`--dir`): `SAVE` writes it, {@link PrivateRedis.restart} loads it. Never saved by the server itself. */
  rdb?: boolean;
  /** AOF persistence (`appendfsync always`) in a temp dir of its own: {@link PrivateRedis.restart} after a `kill -9` loads every write it answered. */
  aof?: boolean;
  /** `--requirepass`: every connection must AUTH with it (the helper's client, its probe and {@link PrivateRedis.url} do). */
  password?: string;
}

/** A free loopback port in 6400-6499. */
async function freePort(): Promise<number> {
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const p = 6400 + ((start + i) % 100);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
  throw new Error('no free port in 6400-6499');
}

/** Waits (10 s at most) until a redis-server on `port` answers PING, through a probe of its own. */
async function waitUp(port: number, password?: string): Promise<void> {
  const probe = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await waitFor(
      async () => {
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      },
      { timeout: 10_000, interval: 50, what: `redis-server on ${port} up` },
    );
  } finally {
    probe.disconnect();
  }
}

/** Starts `redis-server --port <free 64xx> --save '' --appendonly no` (with `rdb`, `--dir <temp dir>`) and waits for its PONG. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = opts.rdb || opts.aof ? mkdtempSync(join(tmpdir(), 'riskstream-redis-')) : undefined;
  const persistence = opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    ...persistence,
    ...(dir ? ['--dir', dir] : []),
    ...(opts.password ? ['--requirepass', opts.password] : []),
  ];
  let server: ChildProcess;
  let stalled = false;
  const start = async (): Promise<void> => {
    server = spawn('redis-server', args, { stdio: 'ignore' });
    await waitUp(port, opts.password);
  };
  const kill = async (): Promise<void> => {
    if (stalled) server.kill('SIGCONT');
    stalled = false;
    if (server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await gone;
  };
  const client = new Redis({ port, host: '127.0.0.1', password: opts.password, maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    client.disconnect();
    await kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}127.0.0.1:${port}`,
    client,
    stall: () => {
      server.kill('SIGSTOP');
      stalled = true;
    },
    resume: () => {
      server.kill('SIGCONT');
      stalled = false;
    },
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop,
  };
}
