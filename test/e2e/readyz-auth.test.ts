import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

/**
 * A Redis password changed under a running worker (CONFIG SET requirepass on a private
 * redis-server, its connections then dropped): the worker's reconnects are refused
 * (WRONGPASS / NOAUTH). `/readyz` named only the symptom, "not connected (reconnecting)"; it names
 * the cause an operator acts on — authentication refused —, never the password.
 */
const prefix = testPrefix('readyz-auth');
const OLD = 'old-secret-pass-1234567';
const NEW = 'new-secret-pass-7654321';
let server: PrivateRedis;
let cfg: TestConfig;
let worker: WorkerProcess;

beforeAll(async () => {
  server = await startPrivateRedis({ password: OLD });
  cfg = await writeTestConfig(prefix, { redis: { url: server.url, prefix } });
  worker = await spawnWorker(cfg.dir, { REDIS_URL: server.url });
}, 60_000);

afterAll(async () => {
  try {
    const killer = setTimeout(() => worker?.child.kill('SIGKILL'), 15_000);
    await worker?.stop();
    clearTimeout(killer);
  } finally {
    await server?.stop();
    cfg?.remove();
  }
}, 30_000);

interface Ready {
  status: number;
  body: { checks?: Record<string, boolean>; reasons?: Record<string, string>; codes?: Record<string, string> };
}
/** What it says once the reconnects are refused (it said "not connected (reconnecting)" alone). */
const REFUSED = /^not connected \(reconnecting\): authentication refused by Redis \((WRONGPASS|NOAUTH)\): /;
const readyz = async (): Promise<Ready> => {
  const r = await fetch(`${worker.url}/readyz`);
  return { status: r.status, body: (await r.json()) as Ready['body'] };
};

describe('/readyz after the Redis password changed', () => {
  it('names the refused authentication (code still redis_unavailable), without the password', { timeout: 90_000 }, async () => {
    await waitFor(async () => (await readyz()).status === 200, { timeout: 30_000, what: 'worker ready' });
    await server.client.config('SET', 'requirepass', NEW);
    await server.client.client('KILL', 'TYPE', 'normal');
    // The first answers may come before any reconnect was refused (the connection just dropped).
    const r = await waitFor(
      async () => {
        const x = await readyz();
        return x.status === 503 && REFUSED.test(x.body.reasons?.redis ?? '') ? x : undefined;
      },
      { timeout: 30_000, what: '/readyz naming the refused authentication' },
    );
    expect(r.body.checks?.redis).toBe(false);
    expect(r.body.codes?.redis).toBe('redis_unavailable');
    const text = JSON.stringify(r.body) + worker.output();
    expect(text).not.toContain(OLD);
    expect(text).not.toContain(NEW);
  });
});
