import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = testPrefix('secrets');
const redis = redisClient();
const receiverSecret = 'Bearer receiver-secret-value-0123456789';
let receiver: TestReceiver;
let cfg: TestConfig;
let worker: WorkerProcess;

beforeAll(async () => {
  receiver = await startReceiver();
  cfg = await writeTestConfig(prefix, {
    log_level: 'trace',
    receivers: [{ name: 'secret-rx', kind: 'ssf', endpoint: `${receiver.url}/e`, audience: 'https://rx', authorization_env: 'RX_AUTH' }],
  });
  worker = await spawnWorker(cfg.dir, { RX_AUTH: receiverSecret });
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
}, 40_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

describe('secrets never leak', () => {
  it('keeps signing keys, bearer tokens and receiver credentials out of logs, metrics, API answers and Redis', async () => {
    const user = 'leak-check@example.com';
    await redis.xadd(`${prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', user, time: '2026-11-23T08:00:00Z', ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } }));
    await redis.xadd(`${prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', user, time: '2026-11-23T09:00:00Z', ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } }));
    await waitFor(() => receiver.received.length >= 1, { what: 'a SET' });
    expect(receiver.received[0]!.authorization).toBe(receiverSecret); // sent to the receiver, and only there

    const auth = { authorization: `Bearer ${cfg.adminToken}` };
    const bodies = await Promise.all(
      ['/metrics', '/v1/audit', `/v1/users/${encodeURIComponent(user)}/risk`, `/v1/users/${encodeURIComponent(user)}/events`, '/.well-known/jwks.json', '/v1/users'].map(async (p) =>
        (await fetch(`${worker.url}${p}`, { headers: auth })).text(),
      ),
    );
    await fetch(`${worker.url}/v1/users`, { headers: { authorization: 'Bearer wrong-token-value-abcdef0123' } });
    await worker.stop();

    const pem = readFileSync(join(cfg.dir, 'keys', 'signing.pem'), 'utf8');
    const keyBody = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const secrets = [cfg.adminToken, cfg.ingestToken, 'receiver-secret-value-0123456789', keyBody.slice(0, 40), 'wrong-token-value-abcdef0123'];
    const dump: string[] = [];
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      for (const key of await redis.keys(pattern)) {
        const type = await redis.type(key);
        if (type === 'string') dump.push((await redis.get(key)) ?? '');
        else if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'stream') dump.push(JSON.stringify(await redis.xrange(key, '-', '+')));
        else if (type === 'list') dump.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'zset') dump.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      }
    }
    const haystacks = { logs: worker.output(), api: bodies.join('\n'), redis: dump.join('\n') };
    expect(worker.output()).toMatch(/"msg":"http"/); // debug logging really ran
    for (const [where, text] of Object.entries(haystacks)) {
      for (const s of secrets) expect(text.includes(s), `${where} contains a secret`).toBe(false);
    }
  });
});
