import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { EgressLimiter } from '../../src/ssf/egress.js';
import { EndpointPolicy } from '../../src/ssf/endpoint-policy.js';
import { enqueueLevelChange, enqueueVerification } from '../../src/ssf/queue.js';
import { deliveryHarness } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-egress');
const receivers = new Map<string, ResolvedReceiver>();
const d = deliveryHarness(prefix, receivers, {
  delivery: { concurrency: 64 },
  egress: { policy: new EndpointPolicy(['127.0.0.1']), limiter: new EgressLimiter(2, 16) },
});

/** A TCP server on a loopback address that accepts connections and never answers. */
async function silentServer(host = '127.0.0.1'): Promise<{ port: number; connections: () => number; open: () => number }> {
  const sockets = new Set<Socket>();
  let total = 0;
  const server = createServer((s) => {
    total++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  d.closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, connections: () => total, open: () => sockets.size };
}

const stream = (name: string, endpoint: string, over: Partial<ResolvedReceiver> = {}): ResolvedReceiver => {
  const r = testReceiver(name, endpoint, { selfRegistered: true, timeout: 10_000, ...over });
  receivers.set(name, r);
  return r;
};

const auditOf = async (action: string, receiver: string) =>
  (await d.audit.list({ action, count: 1000 })).entries.filter((e) => e.details.receiver === receiver);

describe('send-time endpoint check for self-registered streams', () => {
  it('an endpoint the policy refuses fails the SET before any connection (set.failed endpoint_refused)', async () => {
    const other = await silentServer('127.0.0.2');
    const bad = stream('ssf-stream-refused', `https://127.0.0.2:${other.port}/events`);
    await enqueueLevelChange(d.q, change('bob@example.com', 1, 'low', 'high'), [bad]);
    const [failed] = await waitFor(async () => {
      const e = await auditOf('set.failed', bad.name);
      return e.length ? e : undefined;
    });
    expect(failed!.details).toMatchObject({ outcome: 'endpoint_refused', reason: 'address' });
    expect(other.connections()).toBe(0);
  });

  it('a configured receiver (admin-written) is not subject to the stream policy', async () => {
    const rx = await startReceiver();
    d.closers.push(rx.close);
    // 127.0.0.1 over plain http to a path the stream policy would refuse for a stream under another allowed list.
    const configured = testReceiver('configured-2', rx.url);
    receivers.set(configured.name, configured);
    await enqueueLevelChange(d.q, change('carol@example.com', 1, 'low', 'high'), [configured]);
    await waitFor(() => rx.requests.length >= 1, { what: 'configured delivery' });
  });
});

describe('verification jobs', () => {
  it('a failed verification job does not stay in the queue (its failure is in the audit log)', async () => {
    const rx = await startReceiver(() => ({ status: 400, body: { err: 'invalid_request', description: 'no' } }));
    d.closers.push(rx.close);
    const r = stream('ssf-stream-verify', rx.url);
    const jobId = await enqueueVerification(d.q, r.name, 'v-1', 'x'.repeat(10_000));
    await waitFor(async () => (await auditOf('set.failed', r.name)).length > 0, { what: 'verification failure audit' });
    await waitFor(async () => (await d.q.queue.getJob(jobId)) === undefined, { timeout: 3_000, what: 'the failed verification job removed' });
    expect(await d.q.queue.getFailedCount()).toBe((await d.q.queue.getJobs(['failed'])).filter((j) => j.data.event !== 'verification').length);
  });
});

// Last: its hanging sends hold the stream slots until the worker closes.
describe('self-registered streams cannot starve a configured receiver', () => {
  it('128 streams to a loopback endpoint that never answers do not delay a configured receiver’s SET', async () => {
    const silent = await silentServer();
    const streams = Array.from({ length: 128 }, (_, i) => stream(`ssf-stream-hang-${i}`, `http://127.0.0.1:${silent.port}/events`));
    await enqueueLevelChange(d.q, change('victim@example.com', 1, 'low', 'high'), streams);
    // Wait until the hanging sends hold what they may.
    await waitFor(() => silent.open() >= 16, { what: 'hanging connections' });

    const good = await startReceiver();
    d.closers.push(good.close);
    const configured = testReceiver('configured-rx', good.url);
    receivers.set(configured.name, configured);
    await enqueueLevelChange(d.q, change('alice@example.com', 1, 'low', 'high'), [configured]);
    // Generous bound; without the limits it waits for the 10 s timeouts of 64 hanging sends.
    await waitFor(() => good.requests.length >= 1, { timeout: 4_000, what: 'the configured receiver’s SET' });

    // In-flight sends: at most 16 to all streams, at most 2 to one stream.
    expect(silent.open()).toBeLessThanOrEqual(16);
    const one = stream('ssf-stream-one', `http://127.0.0.1:${silent.port}/one`);
    for (let v = 1; v <= 6; v++) await enqueueLevelChange(d.q, change(`one-${v}@example.com`, 1, 'low', 'high'), [one]);
    await new Promise((r) => setTimeout(r, 300));
    expect(silent.open()).toBeLessThanOrEqual(16);
  });
});
