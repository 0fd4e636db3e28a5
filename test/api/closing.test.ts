/**
 * A request that reaches the API while the worker closes (a shipper's kept-alive connection during
 * a SIGTERM drain) gets the API's own 503 `{error: "unavailable", message}` with Retry-After — not
 * fastify's default body of another shape (found by a black-box review). And no client holds the
 * close: a kept-alive connection whose request was under way is closed once answered.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { TokenSet } from '../../src/api/auth.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';

const ADMIN = 'closing-admin-token-0123456789abcdef';
const auth = `Authorization: Bearer ${ADMIN}\r\n`;

/** A server whose `GET /v1/slow` is under way until `release`, and a raw connection to it that asked for it. */
async function slowRequestUnderWay(): Promise<{
  app: Awaited<ReturnType<typeof buildServer>>;
  socket: Socket;
  got: () => string;
  ended: Promise<void>;
  release: () => void;
}> {
  const config = { raw: riskstreamSchema.parse({ redis: { prefix: 'closing' } }), prefix: 'closing' } as unknown as Config;
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  let started: () => void = () => undefined;
  const underWay = new Promise<void>((r) => (started = r));
  const app = await buildServer({ config: () => config, tokens: new TokenSet([ADMIN], []), logger: pino({ level: 'silent' }) }, [
    (a) => {
      a.get('/v1/slow', async () => {
        started();
        await held;
        return { ok: true };
      });
    },
  ]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const socket = connect({ port, host: '127.0.0.1' });
  let got = '';
  socket.on('data', (c: Buffer) => (got += c.toString()));
  const ended = new Promise<void>((r) => socket.on('close', () => r()));
  socket.write(`GET /v1/slow HTTP/1.1\r\nHost: x\r\n${auth}\r\n`);
  await underWay;
  return { app, socket, got: () => got, ended, release };
}

it('while closing: a request on a connection busy with one under way gets 503 unavailable in the API shape, with Retry-After', async () => {
  const { app, socket, got, ended, release } = await slowRequestUnderWay();
  const closed = app.close();
  await new Promise((r) => setTimeout(r, 20));
  // The next request on that busy connection, once the worker is closing.
  socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
  await new Promise((r) => setTimeout(r, 50));
  release();
  await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
  socket.destroy();
  await closed;
  const responses = got().split(/(?=HTTP\/1\.1 )/);
  expect(responses[0]).toMatch(/^HTTP\/1\.1 200/); // what was under way finishes
  expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
  expect(responses[1]).toMatch(/retry-after: 1/i);
  expect(JSON.parse(responses[1]!.slice(responses[1]!.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'unavailable', message: expect.any(String) });
});

it('while closing: a kept-alive connection whose request was under way is answered, then closed — the close ends though its client stays', async () => {
  const { app, socket, got, ended, release } = await slowRequestUnderWay();
  const closed = app.close().then(() => 'closed' as const);
  await new Promise((r) => setTimeout(r, 20));
  release();
  // The client keeps its connection (keep-alive) and sends nothing more: node alone waited for it
  // until keepAliveTimeout (72 s), past the worker's shutdown_timeout.
  const outcome = await Promise.race([closed, new Promise<'held'>((r) => setTimeout(() => r('held'), 3000))]);
  socket.destroy();
  await closed;
  expect(outcome).toBe('closed');
  await ended;
  expect(got()).toMatch(/^HTTP\/1\.1 200/);
});

it('while closing: a pipelined request still arriving behind one under way does not cut the answer under way', async () => {
  const { app, socket, got, ended, release } = await slowRequestUnderWay();
  // A second request pipelined behind the first: its headers arrived, its body is still coming.
  socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"`);
  await new Promise((r) => setTimeout(r, 50));
  const closed = app.close();
  await new Promise((r) => setTimeout(r, 20));
  release();
  await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
  socket.destroy();
  await closed;
  expect(got()).toMatch(/^HTTP\/1\.1 200/); // what was under way is answered
});
