/**
 * Setup file of the `unit` vitest project: the pure tests open no sockets. Any TCP or Unix
 * socket connection (Redis, fetch, a spawned server's client) throws at once, so a test that
 * needs I/O fails loudly in `npm run test:unit` instead of quietly depending on Redis.
 */
import net from 'node:net';

const refuse = (): never => {
  throw new Error('unit tests open no sockets: this test belongs in the "io" project (see vitest.config.ts)');
};

net.Socket.prototype.connect = refuse as unknown as typeof net.Socket.prototype.connect;
net.Server.prototype.listen = refuse as unknown as typeof net.Server.prototype.listen;
