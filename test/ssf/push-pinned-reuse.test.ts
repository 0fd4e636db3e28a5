/**
 * A pinned push (self-registered stream) connects to the address checked for it at that send, never
 * over a kept-alive socket opened to another address the same host name had before: the pool is
 * per address. Both receivers are on loopback (127.0.0.2 and 127.0.0.3); the policy is injected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { EndpointPolicy, type Resolver } from '../../src/ssf/endpoint-policy.js';
import { pushSet } from '../../src/ssf/push-client.js';

const SET = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln';
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A keep-alive receiver on `host` answering 202; counts the POSTs it got. */
async function receiver(host: string, port = 0): Promise<{ port: number; got: () => number; connections: () => number }> {
  let n = 0;
  let c = 0;
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(202, { 'content-length': '0' }).end();
    });
  });
  s.on('connection', () => c++);
  s.keepAliveTimeout = 60_000;
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, host, r));
  return { port: (s.address() as AddressInfo).port, got: () => n, connections: () => c };
}

const to =
  (address: string): Resolver =>
  async () => [{ address, family: 4 }];

describe('pinned pushes and kept-alive sockets', () => {
  it('a host name that now resolves to another allowed address is pushed to there, not over the socket to the old one', async () => {
    const a = await receiver('127.0.0.2');
    const b = await receiver('127.0.0.3', a.port);
    const endpoint = `http://pinned-reuse-${process.pid}.test:${a.port}/events`;
    // Then the name was at 127.0.0.2 and that was allowed …
    const before = new EndpointPolicy(['127.0.0.2', '127.0.0.3'], to('127.0.0.2'));
    expect(await pushSet({ endpoint, set: SET, timeoutMs: 2000, policy: before })).toEqual({ kind: 'delivered', status: 202 });
    expect(a.got()).toBe(1);
    // … now it is at 127.0.0.3, and 127.0.0.2 is no longer allowed (a reload).
    const after = new EndpointPolicy(['127.0.0.3'], to('127.0.0.3'));
    expect(await pushSet({ endpoint, set: SET, timeoutMs: 2000, policy: after })).toEqual({ kind: 'delivered', status: 202 });
    expect([a.got(), b.got()]).toEqual([1, 1]);
    // Pushes to the address pinned again still share its kept-alive connection.
    expect(await pushSet({ endpoint, set: SET, timeoutMs: 2000, policy: after })).toEqual({ kind: 'delivered', status: 202 });
    expect([b.got(), b.connections()]).toEqual([2, 1]);
  });
});
