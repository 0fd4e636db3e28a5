/**
 * The deployment's published signing keys (real Redis, a random prefix): a key rotated out stays
 * in the JWKS for the grace period after a restart — under the kid it signed with — and on every
 * worker, then goes.
 */
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { parseSigningKey } from '../../src/ssf/keys.js';
import { PublishedKeys } from '../../src/ssf/published-keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig } from '../helpers/worker.js';
import { loadConfig } from '../../src/config/load.js';
import { cliServices } from '../../src/runtime/cli-runtime.js';

const redis = redisClient();
const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
let keys: Keys;
let prefix: string;

beforeEach(() => {
  prefix = testPrefix('published-keys');
  keys = new Keys(prefix);
});
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.quit());

/** A ring whose current ES256 key is a fresh one under `kid` (a configured `signing.kid`). */
async function ringWith(kid: string): Promise<KeyRing> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const ring = new KeyRing();
  ring.setCurrent(await parseSigningKey(await exportPKCS8(privateKey), 'ES256', kid));
  return ring;
}
const kids = (doc: { keys: Array<{ kid?: string }> }): string[] => doc.keys.map((k) => k.kid!);

describe('published keys', () => {
  it('a rolling reload: the key one worker put in force is served by another after a re-read, before its next refresh (found by a black-box review: only at its minutely refresh)', async () => {
    const first = await ringWith('r1');
    const reloaded = new PublishedKeys(redis, keys.jwksPublished);
    const other = new PublishedKeys(redis, keys.jwksPublished);
    await reloaded.refresh(first, T0);
    await other.refresh(first, T0);
    const next = await ringWith('r2');
    await reloaded.refresh(next, T0 + 1000); // its reload: it signs with r2 from now on
    expect(kids(other.jwks(first, T0 + 1000))).toEqual(['r1']);
    await Promise.all([other.reread(() => T0 + 1000), other.reread(() => T0 + 1000)]);
    expect(kids(other.jwks(first, T0 + 1000)).sort()).toEqual(['r1', 'r2']);
  });

  it('a new key under a kid that names another key still published is a clash (found by a black-box review: it replaced the old key, whose SETs no longer verified); the same key, a lapsed or withdrawn one is not', async () => {
    const old = await ringWith('main');
    const w = new PublishedKeys(redis, keys.jwksPublished);
    await w.refresh(old, T0);
    expect(await w.clash(old, T0 + DAY)).toBeUndefined();
    const rotated = await ringWith('main');
    expect(await w.clash(rotated, T0 + DAY)).toMatch(/kid main already names another published key/);
    expect(await w.clash(rotated, T0 + DAY, new Set(['main']))).toBeUndefined();
    expect(await w.clash(rotated, T0 + 8 * DAY)).toBeUndefined(); // the old record's grace period is over
    expect(await w.clash(await ringWith('other'), T0 + DAY)).toBeUndefined();
  });

  it('a key rotated out stays published after a restart, under its configured kid, for 7 days; then it goes, from Redis too', async () => {
    const before = await ringWith('k5');
    const w1 = new PublishedKeys(redis, keys.jwksPublished);
    await w1.refresh(before, T0);
    // Rotated (a new key, no kid kept) and restarted: a new process, the old key no longer configured.
    const after = await ringWith('k6');
    const w2 = new PublishedKeys(redis, keys.jwksPublished);
    await w2.refresh(after, T0 + DAY);
    const doc = w2.jwks(after, T0 + DAY);
    expect(kids(doc)).toEqual(['k6', 'k5']);
    expect(doc.keys[1]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'k5' });
    expect(doc.keys[1]).not.toHaveProperty('d');
    // Another worker with the same configuration serves the same set.
    const w3 = new PublishedKeys(redis, keys.jwksPublished);
    await w3.refresh(after, T0 + DAY + 1);
    expect(kids(w3.jwks(after, T0 + DAY + 1))).toEqual(['k6', 'k5']);
    // Seven days after k5 was last configured: gone from the set and from the hash.
    expect(kids(w2.jwks(after, T0 + 7 * DAY))).toEqual(['k6']);
    await w2.refresh(after, T0 + 7 * DAY);
    expect(Object.keys(await redis.hgetall(keys.jwksPublished))).toEqual(['k6']);
  });

  it('a key still configured stays (its time is renewed at each refresh); a stored entry that is not a JWK record is ignored', async () => {
    const ring = await ringWith('k1');
    const w = new PublishedKeys(redis, keys.jwksPublished);
    await w.refresh(ring, T0);
    await redis.hset(keys.jwksPublished, 'junk', '{not json', 'k9', JSON.stringify({ jwk: { kid: 'other' }, last: T0 }));
    await w.refresh(ring, T0 + 30 * DAY);
    expect(kids(w.jwks(ring, T0 + 30 * DAY))).toEqual(['k1']);
  });

  it('a withdrawn kid (signing.withdrawn_kids: a compromised key) is served by no worker and removed from Redis at once', async () => {
    const before = await ringWith('k5');
    await new PublishedKeys(redis, keys.jwksPublished).refresh(before, T0);
    const after = await ringWith('k6');
    const w = new PublishedKeys(redis, keys.jwksPublished);
    await w.refresh(after, T0 + 1, new Set(['k5']));
    expect(kids(w.jwks(after, T0 + 1, new Set(['k5'])))).toEqual(['k6']);
    expect(Object.keys(await redis.hgetall(keys.jwksPublished))).toEqual(['k6']);
  });

  it('a one-shot CLI command (risk, reset) publishes nothing: it signs no SET', async () => {
    const cfg = await writeTestConfig(prefix);
    try {
      const cli = await cliServices(loadConfig(cfg.dir), redis);
      await cli.close();
      expect(await redis.exists(keys.jwksPublished)).toBe(0);
    } finally {
      cfg.remove();
    }
  });
});
