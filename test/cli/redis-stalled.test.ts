import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { ROOT, runCli } from './run.js';

// A black-box audit: a one-shot command against a Redis that accepts the connection but never
// answers (paused, swapping, partitioned away without a reset) waited forever — the connection's
// ready check and each command had no deadline — instead of failing as it does when Redis is away.

const prefix = testPrefix('cli-stall');
const dir = mkdtempSync(join(tmpdir(), 'riskstream-cli-stall-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis: { prefix: ${prefix} }\nhttp: { port: 0, host: 127.0.0.1 }\nlog_level: warn\n`);
const target = new URL(REDIS_URL);
const proxies: TcpProxy[] = [];
const servers: Server[] = [];
const redis = redisClient();

afterAll(async () => {
  for (const p of proxies) await p.close();
  for (const s of servers) await new Promise((r) => s.close(r));
  await cleanup(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

async function proxy(opts: Parameters<typeof startTcpProxy>[1] = {}): Promise<string> {
  const p = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) }, opts);
  proxies.push(p);
  return `redis://127.0.0.1:${p.port}`;
}

describe('one-shot commands against a Redis that does not answer: fail, never hang', () => {
  it('a Redis that accepts the connection and never answers: exit 1, cannot connect', async () => {
    const url = await proxy();
    proxies.at(-1)!.blackhole();
    const t = Date.now();
    const r = await runCli(['risk', 'alice@example.com', '--config', dir], { env: { REDIS_URL: url }, timeoutMs: 40_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^riskstream: cannot connect to Redis: /m);
    expect(Date.now() - t).toBeLessThan(30_000);
  }, 45_000);

  it('a Redis that stops answering after the connection is up: exit 1, saying Redis did not answer', async () => {
    const url = await proxy({ stallWhen: (chunk) => /xrevrange/i.test(chunk.toString('latin1')) });
    const t = Date.now();
    const r = await runCli(['audit', 'tail', '--config', dir], { env: { REDIS_URL: url }, timeoutMs: 40_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^riskstream: Redis did not answer within \d+ ms/m);
    expect(Date.now() - t).toBeLessThan(30_000);
  }, 45_000);

  it('a Redis that stalled with the connection open (its end never closed): the process ends with the error, not seconds after it', async () => {
    // Found by the docs walk: the error came after 5 s, the exit after 9-10 s — ioredis kept the
    // half-closed socket for its disconnectTimeout (2 s) after each disconnect. Old: ≥ 2 s gap.
    const sockets = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true }, (c) => {
      sockets.add(c);
      c.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'risk', 'list', '--config', dir], {
      env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', REDIS_URL: `redis://127.0.0.1:${port}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let errorAt = 0;
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), stderr.includes('cannot connect') && (errorAt ||= Date.now())));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    const gap = Date.now() - errorAt;
    for (const s of sockets) s.destroy();
    expect(code).toBe(1);
    expect(stderr).toMatch(/^riskstream: cannot connect to Redis: no answer within 5000 ms/m);
    expect(gap).toBeLessThan(1_500);
  }, 45_000);

  it('a port that is not Redis (answers its ready check with HTTP): exit 1, cannot connect, and the process ends then (no command timer left holding it)', async () => {
    // dcc3342: a command timeout armed before the ready check held the process ~20 s after the error was printed.
    const server = createServer((c) => {
      c.on('error', () => undefined);
      c.on('data', () => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const t = Date.now();
    const r = await runCli(['risk', 'alice@example.com', '--config', dir], { env: { REDIS_URL: `redis://127.0.0.1:${port}` }, timeoutMs: 40_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^riskstream: cannot connect to Redis: /m);
    expect(Date.now() - t).toBeLessThan(15_000);
  }, 45_000);
});
