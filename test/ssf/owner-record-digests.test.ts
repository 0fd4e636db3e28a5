import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { buildSsf, type SsfRuntime } from '../../src/runtime/ssf.js';
import { streamOwner } from '../../src/ssf/stream-owner.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { startReceiver } from './helpers.js';

// Each worker records the owner ids of its tokens in `<prefix>:receivers:on` so that a SET for a
// stream whose token only another worker has waits (owner-reload-skew.test.ts). An owner id is a
// digest under a public label: whoever reads Redis can test guesses of a token against it. Only the
// owners of streams are recorded (a stream's record holds its owner anyway): never the digest of a
// token that owns no stream, an admin token above all.
const prefix = testPrefix('owner-record-digests');
const token = 'owner-record-digests-ssf-token-0123456789';
const redis = redisClient();
const other = redisClient();
let rx: Awaited<ReturnType<typeof startReceiver>>;
let cfg: TestConfig;
let keys: Keys;
let a: SsfRuntime | undefined;
let b: SsfRuntime | undefined;

async function runtime(client: typeof redis, workerId: string): Promise<SsfRuntime> {
  const config = loadConfig(cfg.dir);
  await redis.zadd(keys.engineMembers, Date.now() + 60_000, workerId);
  return buildSsf({ config: () => config, keys, logger: createLogger('silent'), redis: client, audit: new AuditLog(client, config.streams.audit), workerId });
}
const entry = async (workerId: string): Promise<string[]> => JSON.parse((await redis.hget(keys.receiversOn, workerId)) ?? '[]') as string[];

beforeAll(async () => {
  rx = await startReceiver();
  cfg = await writeTestConfig(prefix, { ssf: { allowed_endpoints: ['127.0.0.1'] }, http: { ssf_tokens: [token] } });
  const config = loadConfig(cfg.dir);
  keys = new Keys(config.prefix, config.raw.engine.partitions);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await rx.close();
  await cleanup(redis, prefix);
  cfg.remove();
  redis.disconnect();
  other.disconnect();
});

describe('the owner ids a worker records', () => {
  it('none for tokens that own no stream: no admin token digest in Redis', async () => {
    a = await runtime(redis, 'worker-a');
    expect(await entry('worker-a')).toEqual([]);
    const all = JSON.stringify(await redis.hgetall(keys.receiversOn));
    expect(all).not.toContain(streamOwner(cfg.adminToken));
    expect(all).not.toContain(streamOwner(token));
  });

  it('a stream created through the worker: its owner is recorded before the create answers', async () => {
    await a!.streams.create({ fields: { endpoint_url: `${rx.url}/push` }, body: {} }, { owner: streamOwner(token), admin: false }, 'test');
    expect(await entry('worker-a')).toEqual([`owner:${streamOwner(token)}`]);
    expect(a!.ownersOn()).toEqual([streamOwner(token)]);
  });

  it("a stream created through another worker: recorded within the stream cache's refresh", async () => {
    b = await runtime(other, 'worker-b');
    expect(await entry('worker-b')).toEqual([`owner:${streamOwner(token)}`]);
    const admin = streamOwner(cfg.adminToken);
    await b.streams.create({ fields: { endpoint_url: `${rx.url}/push2` }, body: {} }, { owner: admin, admin: true }, 'test');
    await waitFor(async () => ((await entry('worker-a')).includes(`owner:${admin}`) ? true : undefined), { timeout: 5000, what: "worker-a's entry" });
    expect((await entry('worker-a')).sort()).toEqual([`owner:${admin}`, `owner:${streamOwner(token)}`].sort());
  });
});
