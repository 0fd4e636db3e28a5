import { createServer } from 'node:net';

/**
 * Resolves when `port` can be bound on `host` now (bound and released at once); rejects with the
 * bind's error (EADDRINUSE, EACCES …) otherwise. A worker checks its port before it claims its
 * worker id and partitions: a second process started by mistake with the same id and port fails
 * there, without superseding the running one first. Port 0 (any free port) always can.
 */
export function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
