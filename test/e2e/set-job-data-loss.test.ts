/**
 * Redis lost its data (a restart without persistence, a failover to an empty replica) while SETs
 * were being pushed: when their pushes end, BullMQ finds their job hashes gone and says "Missing
 * key for job <id>. <command>" for each. That was logged at error level with a stack, once per job
 * (hundreds of identical stacks after a loss with many SETs in flight); it is one warn line per
 * kind (command) at a time, naming a job id, with no stack. Against a real worker on a private
 * redis-server (FLUSHALL there only).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { privateRedisWorker } from '../helpers/private-redis-worker.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { criticalDetection } from '../helpers/worker.js';

const prefix = testPrefix('set-job-data-loss');
const sockets: Socket[] = [];
// Reads each push and holds it until told to answer.
const held = createServer((s) => {
  sockets.push(s);
  s.on('error', () => undefined);
  s.resume();
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
  port = (held.address() as AddressInfo).port;
});
const h = privateRedisWorker(prefix, {
  get receivers() {
    return [{ name: 'held', kind: 'ssf', endpoint: `http://127.0.0.1:${port}/events`, audience: 'aud', timeout: '30s' }];
  },
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => held.close(() => r()));
});

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}
const lines = (): Line[] =>
  h.worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

it('pushes answered after a FLUSHALL: one warn per kind with a job id, no error, no stack', { timeout: 90_000 }, async () => {
  const users = ['loss-1@example.com', 'loss-2@example.com', 'loss-3@example.com'];
  for (const u of users) await h.server.client.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(u));
  await waitFor(() => sockets.length >= users.length || undefined, { timeout: 30_000, what: 'three SETs pushed and held' });
  await h.server.client.flushall();
  for (const s of sockets) s.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  const missing = await waitFor(
    () => {
      const found = lines().filter((l) => JSON.stringify(l).includes('Missing key for job'));
      return found.length ? found : undefined;
    },
    { timeout: 30_000, what: 'the missing job keys reported' },
  );
  // The three jobs' ends are reported (two commands each: the answer's, then BullMQ's retry's).
  await new Promise((r) => setTimeout(r, 3000));
  const all = lines().filter((l) => JSON.stringify(l).includes('Missing key for job'));
  expect(all.filter((l) => l.level >= 50)).toEqual([]);
  expect(all.every((l) => !JSON.stringify(l).includes('"stack"'))).toBe(true);
  expect(missing[0]).toMatchObject({ level: 40, job_id: expect.any(String), command: expect.any(String) });
  // One line per kind, however many jobs: here three jobs, one command.
  expect(new Set(all.map((l) => l.command)).size).toBe(all.length);
});
