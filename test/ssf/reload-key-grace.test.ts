/**
 * A signing key rotated out by a reload stays in the JWKS for 7 days after the worker last had it
 * configured (docs/operations.md, "Reloading the configuration"), not 7 days after the worker's
 * last reload: a later reload that leaves the keys as they are does not publish it longer. Real
 * Redis, the worker's SSF side (buildSsf) reloaded as SIGHUP reloads it; only `Date` is faked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { buildSsf, type SsfRuntime } from '../../src/runtime/ssf.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';

const DAY = 86_400_000;
const prefix = testPrefix('reload-key-grace');
const redis = redisClient();
let cfg: TestConfig | undefined;
let ssf: SsfRuntime | undefined;

afterEach(() => vi.useRealTimers());
afterAll(async () => {
  await ssf?.close();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const kids = async (): Promise<string[]> => (await ssf!.jwks()).keys.map((k) => (k as { kid: string }).kid);

it('a key rotated out by a reload leaves the JWKS 7 days after the rotation, whatever reloads come in between', async () => {
  cfg = await writeTestConfig(prefix);
  let config: Config = loadConfig(cfg.dir);
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  const t0 = Date.now();
  vi.useFakeTimers({ toFake: ['Date'], now: t0 });
  ssf = await buildSsf({ config: () => config, redis, keys, audit: new AuditLog(redis, config.streams.audit), logger: createLogger('silent') });
  const [oldKid] = await kids();

  // Rotated by a reload: key_file points at a new key.
  await generateKeyFiles('ES256', join(cfg.dir, 'keys'), 'next');
  const file = join(cfg.dir, 'riskstream.yaml');
  const c = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  writeFileSync(file, stringify({ ...c, signing: { ...c.signing, key_file: 'keys/next.pem' } }));
  config = loadConfig(cfg.dir);
  await ssf.reload();
  const [newKid] = await kids();
  expect(newKid).not.toBe(oldKid);
  expect(await kids()).toEqual([newKid, oldKid]);

  // Six days on, another reload (a token added, say: the keys as they were).
  vi.setSystemTime(t0 + 6 * DAY);
  config = loadConfig(cfg.dir);
  await ssf.reload();
  expect(await kids()).toEqual([newKid, oldKid]);

  // Past the 7 days after the rotation: gone (it was published until 13 days after it).
  vi.setSystemTime(t0 + 7 * DAY + 60_000);
  expect(await kids()).toEqual([newKid]);
  // A reload then does not bring it back either.
  config = loadConfig(cfg.dir);
  await ssf.reload();
  expect(await kids()).toEqual([newKid]);
}, 30_000);
