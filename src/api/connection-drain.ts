import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a connection closed after its last answer may take to hang up before it is cut (ms). */
const HANG_UP_MS = 1000;

/**
 * Lets the server's close end once the routes under way have answered, whatever the clients do.
 * Node's close waits for every connection with a request in it: one whose request has not fully
 * arrived (headers or a body still coming: a stalled client, a half-open socket) until
 * `http.request_timeout`, and a kept-alive one whose request was under way until its client hangs
 * up — either held the worker's drain past `shutdown_timeout` (exit 1). So when the server closes,
 * connections holding no fully received request are cut (nothing of it reached a route: its client
 * sends it again), and the others are closed once their last fully received request is answered
 * (a request that follows on one meanwhile still gets its 503, see server.ts; one pipelined behind
 * it and still arriving is not waited for).
 */
export function closeConnectionsOnClose(app: FastifyInstance): void {
  /** Each open connection and its requests not answered yet, in order (pipelined ones queue). */
  const open = new Map<Socket, IncomingMessage[]>();
  let closing = false;
  const underWay = (reqs: readonly IncomingMessage[]): boolean => reqs.some((r) => r.complete);
  const close = (socket: Socket): void => {
    socket.end();
    setTimeout(() => socket.destroy(), HANG_UP_MS).unref();
  };
  app.server.on('connection', (socket: Socket) => {
    open.set(socket, []);
    socket.once('close', () => open.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const reqs = open.get(req.socket);
    if (!reqs) return;
    reqs.push(req);
    res.once('close', () => {
      const i = reqs.indexOf(req);
      if (i >= 0) reqs.splice(i, 1);
      if (closing && !underWay(reqs)) close(req.socket);
    });
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const [socket, reqs] of open) if (!underWay(reqs)) socket.destroy();
  });
}
