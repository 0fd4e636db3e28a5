import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { waitFor } from './redis.js';

/** A redis-server of a test's own (no persistence), to stall (`SIGSTOP`) or kill without touching the shared one. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** A client that waits (never fails) while the server is away. */
  client: Redis;
  /** `SIGSTOP`: the server keeps its connections open and answers nothing. */
  stall(): void;
  /** `SIGCONT`: it answers again. */
  resume(): void;
  /** Resumes it if stalled, kills it and waits for its exit. */
  stop(): Promise<void>;
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

/** Starts `redis-server --port <free 64xx> --save '' --appendonly no` and waits for its PONG. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  let stalled = false;
  const stop = async (): Promise<void> => {
    if (stalled) server.kill('SIGCONT');
    client.disconnect();
    if (server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await gone;
  };
  try {
    await waitFor(async () => (await client.ping().catch(() => '')) === 'PONG', { timeout: 10_000, what: `redis-server on ${port} up` });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    stall: () => {
      server.kill('SIGSTOP');
      stalled = true;
    },
    resume: () => {
      server.kill('SIGCONT');
      stalled = false;
    },
    stop,
  };
}
