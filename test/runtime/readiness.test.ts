import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { NOT_STALLED } from '../../src/engine/stall-tracker.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';
import { connect } from '../../src/runtime/connections.js';
import { groupState, readinessCheck } from '../../src/runtime/readiness.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/** `/readyz` answers at once, with a reason, while Redis is away: its PING would queue until Redis is back. */
const config = { raw: riskstreamSchema.parse({}), streams: { inputs: [], group: 'riskstream' } } as unknown as Config;
// A worker connection (commands queue while reconnecting) to a loopback port nobody listens on.
const away = connect('redis://127.0.0.1:1', createLogger('silent'), 'readiness-test');
const up = redisClient();

const prefix = testPrefix('readiness');
afterAll(async () => {
  away.disconnect();
  await cleanup(up, prefix);
  up.disconnect();
});

describe('readinessCheck', () => {
  it('Redis away: not ready within the PING timeout, with the reason named', async () => {
    const check = readinessCheck({ redis: away, config: () => config, consumerGroup: () => true, stall: () => NOT_STALLED, pingTimeoutMs: 300 });
    const t0 = Date.now();
    const r = await check();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r.ok).toBe(false);
    expect(r.checks.redis).toBe(false);
    expect(r.reasons?.redis).toMatch(/not connected|no PONG within 300 ms|PING failed/);
  });

  it('draining or stopped: not ready, with the reason named and a stable code', async () => {
    await up.ping();
    const check = readinessCheck({ redis: up, config: () => config, consumerGroup: () => groupState(true, undefined), stall: () => NOT_STALLED });
    expect(await check()).toEqual({
      ok: false,
      checks: { redis: true, consumer_group: false, config: true, pipeline: true },
      reasons: { consumer_group: 'draining: the worker is shutting down' },
      codes: { consumer_group: 'draining' },
    });
    const halted = readinessCheck({ redis: up, config: () => config, consumerGroup: () => groupState(false, 'stopped: taken'), stall: () => NOT_STALLED });
    expect(await halted()).toMatchObject({ ok: false, reasons: { consumer_group: 'stopped: taken' }, codes: { consumer_group: 'stopped' } });
    expect(groupState(false, undefined)).toBe(true);
  });

  it('Redis up: ready, no reasons', async () => {
    await up.ping(); // connected
    const check = readinessCheck({ redis: up, config: () => config, consumerGroup: () => true, stall: () => NOT_STALLED });
    expect(await check()).toEqual({ ok: true, checks: { redis: true, consumer_group: true, config: true, pipeline: true } });
  });

  it("a configuration not the files' (a reload refused): checks.config false with its reason, still ready (informational)", async () => {
    await up.ping();
    const check = readinessCheck({
      redis: up,
      config: () => config,
      consumerGroup: () => true,
      configProblem: () => 'refused',
      stall: () => NOT_STALLED,
    });
    expect(await check()).toEqual({ ok: true, checks: { redis: true, consumer_group: true, config: false, pipeline: true }, reasons: { config: 'refused' } });
  });

  it('input streams whose node does not answer (a cluster failing over: PING, on another node, does) make it not ready within the timeout, not wait (found by a black-box review)', async () => {
    await up.ping();
    // The real connection, with the input streams' commands held as a cluster client holds them during a failover.
    const held = new Proxy(up, {
      get: (t, k, r) => (k === 'xpending' || k === 'xinfo' ? () => new Promise(() => undefined) : (Reflect.get(t, k, r) as unknown)),
    });
    const streams = { inputs: [`${prefix}:login`], group: 'riskstream' };
    const check = readinessCheck({
      redis: held,
      config: () => ({ ...config, streams }) as Config,
      consumerGroup: () => true,
      stall: () => NOT_STALLED,
      pingTimeoutMs: 300,
    });
    const t0 = Date.now();
    const r = await check();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r).toMatchObject({ ok: false, checks: { redis: true, pipeline: false } });
    expect(r.reasons?.pipeline).toMatch(/not readable within 300 ms/);
  });

  it('an input entry delivered again and again (a step fails on it each time) makes it not ready, with the entry named', async () => {
    const stream = `${prefix}:login`;
    const cfg = { raw: riskstreamSchema.parse({}), streams: { inputs: [stream], group: 'g' } } as unknown as Config;
    await up.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const id = await up.xadd(stream, '*', 'type', 'login');
    const check = readinessCheck({ redis: up, config: () => cfg, consumerGroup: () => true, stall: () => NOT_STALLED });
    await up.xreadgroup('GROUP', 'g', 'c', 'STREAMS', stream, '>');
    expect((await check()).ok).toBe(true); // read once: in flight, not stuck
    for (let i = 0; i < 9; i++) await up.xreadgroup('GROUP', 'g', 'c', 'STREAMS', stream, '0'); // re-read pending: 10 deliveries
    const r = await check();
    expect(r.ok).toBe(false);
    expect(r.checks.pipeline).toBe(false);
    expect(r.reasons?.pipeline).toContain(
      `stuck: input read again and again without being processed (oldest pending: entry ${id} of ${stream}, delivered 10 times;`,
    );
  });
});
