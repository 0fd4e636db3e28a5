/**
 * docs/operations.md: the CLI commands that only read run as a read-only Redis user
 * (`ACL SETUSER <name> on ><password> ~* &* +@read +@connection +info +eval +evalsha`). Checked on
 * a Redis of the test's own (an ACL user is server-wide), with session index members left stale by
 * an expired session — which the listings pruned on the way, as that user a NOPERM and exit 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { login, settings } from '../sessions/helpers.js';
import { runCli } from './run.js';

const prefix = testPrefix('cli-ro-acl');
let redis: PrivateRedis;
let cfg: TestConfig;
let readOnlyUrl: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  await redis.client.call('ACL', 'SETUSER', 'reader', 'on', '>reader-password-0123', '~*', '&*', '+@read', '+@connection', '+info', '+eval', '+evalsha');
  readOnlyUrl = `redis://reader:reader-password-0123@127.0.0.1:${redis.port}`;
  cfg = await writeTestConfig(prefix);
  const store = new SessionStore(redis.client, new Keys(prefix));
  const now = Date.now();
  await store.put([
    buildIdentity(login({ sessionId: 's-live', time: now - 1000 }), settings())!,
    buildIdentity(login({ sessionId: 's-gone', time: now - 1000, expiresAt: now + 300 }), settings())!,
  ]);
  await new Promise((r) => setTimeout(r, 500)); // s-gone expires: its index members stay until a listing prunes them
}, 30_000);
afterAll(async () => {
  cfg?.remove();
  await redis?.stop();
});

describe('read-only CLI commands as a read-only Redis user', () => {
  it.each([[['sessions', 'list']], [['sessions', 'list', '--user', 'alice@example.com']], [['sessions', 'show', 's-live']]])(
    '%j lists the live session, exit 0 (found by a black-box audit: NOPERM for ZREMRANGEBYSCORE / the prune script, exit 1)',
    async (args) => {
      const r = await runCli([...args, '--config', cfg.dir], { env: { REDIS_URL: readOnlyUrl } });
      expect(r.stderr).not.toMatch(/NOPERM/);
      expect(r.code).toBe(0);
      const sessions = r.stdout.split('\nDevices')[0]!; // the device registry outlives sessions (docs/sessions.md)
      expect(sessions).toContain('s-live');
      expect(sessions).not.toContain('s-gone');
    },
  );
});
