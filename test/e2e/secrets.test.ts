import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR, recentIso } from '../helpers/clock.js';

const receiverSecret = 'Bearer receiver-secret-value-0123456789';
const h = workerHarness(
  'secrets',
  (url) => ({
    log_level: 'trace',
    receivers: [{ name: 'secret-rx', kind: 'ssf', endpoint: `${url}/e`, audience: 'https://rx', authorization_env: 'RX_AUTH' }],
  }),
  { env: { RX_AUTH: receiverSecret } },
);

describe('secrets never leak', () => {
  it('keeps signing keys, bearer tokens and receiver credentials out of logs, metrics, API answers and Redis', async () => {
    const user = 'leak-check@example.com';
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      JSON.stringify({ type: 'login', user, time: recentIso(0), ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } }),
    );
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      JSON.stringify({ type: 'login', user, time: recentIso(HOUR), ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } }),
    );
    await waitFor(() => h.receiver.received.length >= 1, { what: 'a SET' });
    expect(h.receiver.received[0]!.authorization).toBe(receiverSecret); // sent to the receiver, and only there

    const auth = { authorization: `Bearer ${h.cfg.adminToken}` };
    const bodies = await Promise.all(
      [
        '/metrics',
        '/v1/audit',
        `/v1/users/${encodeURIComponent(user)}/risk`,
        `/v1/users/${encodeURIComponent(user)}/events`,
        '/.well-known/jwks.json',
        '/v1/users',
      ].map(async (p) => (await fetch(`${h.worker.url}${p}`, { headers: auth })).text()),
    );
    await fetch(`${h.worker.url}/v1/users`, { headers: { authorization: 'Bearer wrong-token-value-abcdef0123' } });
    await h.worker.stop();

    const pem = readFileSync(join(h.cfg.dir, 'keys', 'signing.pem'), 'utf8');
    const keyBody = pem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
    const secrets = [h.cfg.adminToken, h.cfg.ingestToken, 'receiver-secret-value-0123456789', keyBody.slice(0, 40), 'wrong-token-value-abcdef0123'];
    const dump: string[] = [];
    for (const pattern of [`${h.prefix}:*`, `{${h.prefix}}:*`]) {
      for (const key of await h.redis.keys(pattern)) {
        const type = await h.redis.type(key);
        if (type === 'string') dump.push((await h.redis.get(key)) ?? '');
        else if (type === 'hash') dump.push(JSON.stringify(await h.redis.hgetall(key)));
        else if (type === 'stream') dump.push(JSON.stringify(await h.redis.xrange(key, '-', '+')));
        else if (type === 'list') dump.push(JSON.stringify(await h.redis.lrange(key, 0, -1)));
        else if (type === 'zset') dump.push(JSON.stringify(await h.redis.zrange(key, 0, -1)));
      }
    }
    const haystacks = { logs: h.worker.output(), api: bodies.join('\n'), redis: dump.join('\n') };
    expect(h.worker.output()).toMatch(/"msg":"http"/); // debug logging really ran
    for (const [where, text] of Object.entries(haystacks)) {
      for (const s of secrets) expect(text.includes(s), `${where} contains a secret`).toBe(false);
    }
  });
});
