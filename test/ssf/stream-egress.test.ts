import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { buildSsf } from '../../src/runtime/ssf.js';
import type { Resolver } from '../../src/ssf/endpoint-policy.js';
import { createSetQueue, levelChangeJobId, type SetQueue } from '../../src/ssf/queue.js';
import { StreamCache } from '../../src/ssf/stream-cache.js';
import { StreamService, type StreamRequest } from '../../src/ssf/stream-service.js';
import type { StreamCaller } from '../../src/ssf/stream-owner.js';
import { SsfStreamStore, streamReceiverName } from '../../src/ssf/streams.js';
import { holdCapped, releaseHeld } from '../../src/ssf/held.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig } from '../helpers/worker.js';
import { change } from './helpers.js';

const prefix = testPrefix('stream-egress');
const keys = new Keys(prefix);
let redis: Redis;
let q: SetQueue;
let audit: AuditLog;

/** Knows only localhost (never real DNS). */
const resolver: Resolver = async (host) => {
  if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw new Error('ENOTFOUND');
};

function service(ssf: Record<string, unknown> = {}, refreshMs = 1000): StreamService {
  const settings = riskstreamSchema.parse({ ssf }).ssf;
  return new StreamService(
    redis,
    new SsfStreamStore(redis, keys),
    q,
    audit,
    () => 'https://riskstream.test',
    refreshMs,
    () => 'ES256',
    () => settings,
    resolver,
  );
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isRiskstreamError(err)) return `${err.code}:${String(err.details?.reason)}`;
    throw err;
  }
  return 'accepted';
}

const push = (endpoint_url: string): StreamRequest => ({ fields: { endpoint_url }, body: {} });
const caller: StreamCaller = { owner: 'stream-egress-test-owner', admin: false };

beforeAll(() => {
  redis = redisClient();
  q = createSetQueue(redis, keys);
  audit = new AuditLog(redis, `${prefix}:audit`);
});
afterAll(async () => {
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('stream endpoints at create / update', () => {
  it.each([
    'http://127.0.0.1:9/push',
    'https://127.0.0.1/push',
    'https://localhost/push',
    'https://0x7f000001/push',
    'https://2130706433/push',
    'https://[::1]/push',
    'https://[::ffff:127.0.0.1]/push',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/push',
    'https://192.168.1.10/push',
  ])('refuses %s by default (nothing stored)', async (url) => {
    expect(await code(service().create(push(url), caller, 'ssf:test'))).toMatch(/^ENDPOINT_REFUSED:(address|scheme)$/);
    expect(await new SsfStreamStore(redis, keys).list()).toHaveLength(0);
  });

  it('accepts a listed loopback endpoint; an update to a refused one keeps the old endpoint', async () => {
    const svc = service({ allowed_endpoints: ['127.0.0.1'] });
    const s = await svc.create(push('http://127.0.0.1:9/push'), caller, 'ssf:test');
    expect(await code(svc.update(s.stream_id, push('https://[::1]/x'), caller, 'ssf:test'))).toBe('ENDPOINT_REFUSED:address');
    expect(await code(svc.update(s.stream_id, push('https://169.254.169.254/'), caller, 'ssf:test', true))).toBe('ENDPOINT_REFUSED:address');
    expect((await svc.store.get(s.stream_id)).endpoint_url).toBe('http://127.0.0.1:9/push');
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });

  it('a stream is a self-registered receiver with the short ssf.timeout', async () => {
    const svc = service({ allowed_endpoints: ['127.0.0.1'], timeout: '3s' });
    const s = await svc.create(push('http://127.0.0.1:9/push'), caller, 'ssf:test');
    expect(svc.receiversNow().find((r) => r.endpoint === s.endpoint_url)).toMatchObject({ selfRegistered: true, timeout: 3000 });
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });

  it('the audit log shows the endpoint without credentials, query values or fragment', async () => {
    const svc = service({ allowed_endpoints: ['127.0.0.1'] });
    const s = await svc.create(push('http://user:pa55word@127.0.0.1:9/push?token=t0ps3cret#frag'), caller, 'ssf:test');
    await svc.update(s.stream_id, push('http://127.0.0.1:9/other?key=k3y'), caller, 'ssf:test');
    const { entries } = await audit.list({ count: 1000 });
    const mine = entries.filter((e) => e.details.stream_id === s.stream_id);
    expect(mine.map((e) => e.details.endpoint)).toEqual(
      expect.arrayContaining(['http://[redacted]@127.0.0.1:9/push?[redacted]', 'http://127.0.0.1:9/other?[redacted]']),
    );
    expect(JSON.stringify(mine)).not.toMatch(/pa55word|t0ps3cret|k3y|frag/);
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });
});

describe('a paused stream’s held list', () => {
  it('is capped at ssf.max_held (oldest dropped) with one audit entry when full', async () => {
    const svc = service({ allowed_endpoints: ['127.0.0.1'], max_held: 3 });
    const s = await svc.create(push('http://127.0.0.1:9/push'), caller, 'ssf:test');
    await svc.setStatus(s.stream_id, 'paused', undefined, caller, 'ssf:test');
    await svc.onChanges([1, 2, 3, 4, 5].map((v) => change(`held-${v}@example.com`, 1, 'low', 'high')));
    const held = (await redis.lrange(svc.store.heldKey(s.stream_id), 0, -1)).map((v) => (JSON.parse(v) as { change: { user: string } }).change.user);
    expect(held).toEqual(['held-3@example.com', 'held-4@example.com', 'held-5@example.com']);
    await svc.onChanges([change('held-6@example.com', 1, 'low', 'high')]);
    expect(await redis.llen(svc.store.heldKey(s.stream_id))).toBe(3);
    const full = (await audit.list({ action: 'receiver.held_full' })).entries.filter((e) => e.details.stream_id === s.stream_id);
    expect(full).toHaveLength(1);
    expect(full[0]!.details).toMatchObject({ max_held: 3, dropped: 2 });
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });
});

describe('a read-modify-replace of a stream (SSF 1.0 §8.1.1.4)', () => {
  it('echoing the masked "[set]" authorization_header keeps the stored one (PUT and PATCH); a new one replaces it', async () => {
    const svc = service({ allowed_endpoints: ['127.0.0.1'] });
    const url = 'http://127.0.0.1:9/push';
    const s = await svc.create({ fields: { endpoint_url: url, authorization_header: 'Bearer rx1' }, body: {} }, caller, 'ssf:test');
    expect((svc.view(await svc.store.get(s.stream_id)).delivery as { authorization_header?: string }).authorization_header).toBe('[set]');
    for (const replace of [true, false]) {
      await svc.update(s.stream_id, { fields: { endpoint_url: url, authorization_header: '[set]' }, body: {} }, caller, 'ssf:test', replace);
      expect((await svc.store.get(s.stream_id)).authorization_header).toBe('Bearer rx1');
    }
    await svc.update(s.stream_id, { fields: { endpoint_url: url, authorization_header: 'Bearer rx2' }, body: {} }, caller, 'ssf:test');
    expect((await svc.store.get(s.stream_id)).authorization_header).toBe('Bearer rx2');
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });
});

describe('events a stream is told it gets are the events it gets', () => {
  it('Okta’s user-risk-change URI is not supported for a stream: not delivered, and no risk SETs are queued for it', async () => {
    const okta = 'https://schemas.okta.com/secevent/okta/event-type/user-risk-change';
    const svc = service({ allowed_endpoints: ['127.0.0.1'] });
    const s = await svc.create({ fields: { endpoint_url: 'http://127.0.0.1:9/push', events_requested: [okta] }, body: {} }, caller, 'ssf:test');
    const view = svc.view(await svc.store.get(s.stream_id));
    expect(view.events_supported).not.toContain(okta);
    expect(view.events_delivered).toEqual([]);
    await svc.onChanges([change('okta-uri@example.com', 1, 'low', 'high')]);
    expect(await q.queue.getJob(levelChangeJobId(streamReceiverName(s.stream_id), 'okta-uri@example.com', 1))).toBeUndefined();
    await svc.delete(s.stream_id, caller, 'ssf:test');
  });
});

describe('releasing a paused stream’s held SETs', () => {
  it('a SET held by a worker that has not seen the resume yet is queued at once, not left held', async () => {
    const serving = service({ allowed_endpoints: ['127.0.0.1'] });
    // Another worker whose stream view is a minute old (its sync had not come yet).
    const stale = service({ allowed_endpoints: ['127.0.0.1'] }, 60_000);
    const s = await serving.create(push('http://127.0.0.1:9/push'), caller, 'ssf:test');
    await serving.setStatus(s.stream_id, 'paused', undefined, caller, 'ssf:test');
    expect((await stale.streams()).find((x) => x.stream_id === s.stream_id)?.status).toBe('paused');
    await serving.setStatus(s.stream_id, 'enabled', undefined, caller, 'ssf:test');

    await stale.onChanges([change('late-held@example.com', 1, 'low', 'high')]);
    expect(await redis.llen(serving.store.heldKey(s.stream_id))).toBe(0);
    const job = await q.queue.getJob(levelChangeJobId(streamReceiverName(s.stream_id), 'late-held@example.com', 1));
    expect(job?.data).toMatchObject({ change: { user: 'late-held@example.com', version: 1 } });
    await serving.delete(s.stream_id, caller, 'ssf:test');
  });

  it('a SET held by a worker that has not seen the stream disabled is dropped, not kept for a later resume', async () => {
    const serving = service({ allowed_endpoints: ['127.0.0.1'] });
    const stale = service({ allowed_endpoints: ['127.0.0.1'] }, 60_000);
    const s = await serving.create(push('http://127.0.0.1:9/push'), caller, 'ssf:test');
    await serving.setStatus(s.stream_id, 'paused', undefined, caller, 'ssf:test');
    await stale.streams();
    await serving.setStatus(s.stream_id, 'disabled', undefined, caller, 'ssf:test');
    await stale.onChanges([change('late-disabled@example.com', 1, 'low', 'high')]);
    expect(await redis.llen(serving.store.heldKey(s.stream_id))).toBe(0);
    expect(await q.queue.getJob(levelChangeJobId(streamReceiverName(s.stream_id), 'late-disabled@example.com', 1))).toBeUndefined();
    await serving.delete(s.stream_id, caller, 'ssf:test');
  });

  it('a capped push during a release shifts the list: nothing pushed meanwhile is dropped unqueued', async () => {
    const key = `${prefix}:held-race`;
    await holdCapped(redis, key, ['a', 'b', 'c'], 3);
    const delivered: string[][] = [];
    let pushed = false;
    const n = await releaseHeld(redis, key, async (items) => {
      delivered.push(items);
      // Another worker holds one more SET while these are being queued: the cap drops `a`.
      if (!pushed) await holdCapped(redis, key, ['d'], 3);
      pushed = true;
    });
    expect(delivered).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c', 'd'],
    ]);
    expect(n).toBe(3);
    expect(await redis.llen(key)).toBe(0);
  });
});

describe('stream changes propagate without re-reading every stream', () => {
  it('another process’s create, update and delete show up; only the first sync reads everything', async () => {
    const cache = new StreamCache(redis, keys);
    const other = service({ allowed_endpoints: ['127.0.0.1'] });
    const a = await other.create(push('http://127.0.0.1:9/a'), caller, 'ssf:test');
    expect((await cache.sync()).map((s) => s.stream_id)).toContain(a.stream_id);
    expect(cache.fullReads).toBe(1);

    const b = await other.create(push('http://127.0.0.1:9/b'), caller, 'ssf:test');
    await other.update(a.stream_id, push('http://127.0.0.1:9/a2'), caller, 'ssf:test');
    let now = await cache.sync();
    expect(now.find((s) => s.stream_id === a.stream_id)?.endpoint_url).toBe('http://127.0.0.1:9/a2');
    expect(now.map((s) => s.stream_id)).toContain(b.stream_id);

    await other.delete(a.stream_id, caller, 'ssf:test');
    now = await cache.sync();
    expect(now.map((s) => s.stream_id)).not.toContain(a.stream_id);
    for (let i = 0; i < 5; i++) await cache.sync();
    expect(cache.fullReads).toBe(1);
    await other.delete(b.stream_id, caller, 'ssf:test');
  });
});

describe('configured receivers in the audit log', () => {
  it('are shown without user:password@ and query values', async () => {
    const p2 = testPrefix('stream-egress-cfg');
    const cfg = await writeTestConfig(p2, {
      receivers: [{ name: 'rx-cred', kind: 'ssf', endpoint: 'https://admin:s3cretpw@rx.example/events?token=t0ps3cret', audience: 'https://rx.example' }],
    });
    const config = loadConfig(cfg.dir);
    const log = new AuditLog(redis, `${p2}:audit`);
    const rt = await buildSsf({ config: () => config, redis, keys: new Keys(p2), audit: log, logger: createLogger('silent'), deliver: false });
    try {
      const { entries } = await log.list({ action: 'receiver.enabled' });
      expect(entries.find((e) => e.target === 'rx-cred')?.details.endpoint).toBe('https://[redacted]@rx.example/events?[redacted]');
      expect(JSON.stringify(entries)).not.toMatch(/s3cretpw|t0ps3cret/);
    } finally {
      await rt.close();
      await cleanup(redis, p2);
      cfg.remove();
    }
  });
});
