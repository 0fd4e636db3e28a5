/**
 * A fresh install with a minimal `kind: okta` receiver (name, kind, endpoint, audience — CONTRACT §3,
 * which names no `signing.keys`): kind okta signs RS256 (SSF.md), and no RS256 key is configured.
 * The worker refused to start (KEY_NOT_FOUND) until an RS256 key was added under `signing.keys`; it
 * now generates an implicit one beside `signing.key_file` (keys/signing.rs256.pem), once, publishes
 * it in its JWKS and signs the receiver's SETs with it. An RS256 key configured wins.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { OKTA_USER_RISK_CHANGE } from '../../src/ssf/set-builder.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type ReceivedSet, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = testPrefix('okta-implicit-key');
const redis = redisClient();
const rsa = mkdtempSync(join(tmpdir(), 'riskstream-okta-explicit-'));
let receiver: TestReceiver;
let cfg: TestConfig;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  receiver = await startReceiver();
  const okta = { name: 'okta', kind: 'okta', endpoint: `${receiver.url}/security/api/v1/security-events`, audience: receiver.url };
  cfg = await writeTestConfig(prefix, { receivers: [okta] });
  rmSync(join(cfg.dir, 'keys'), { recursive: true, force: true }); // a fresh install: no key at all
}, 30_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
  rmSync(rsa, { recursive: true, force: true });
});

/** Starts the worker on `cfg`, its JWKS given to the receiver. */
async function start(): Promise<WorkerProcess> {
  worker = await spawnWorker(cfg.dir);
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
  return worker;
}

/** The kids the worker publishes. */
async function publishedKids(w: WorkerProcess): Promise<Array<{ kid: string; alg: string }>> {
  const r = await fetch(`${w.url}/.well-known/jwks.json`);
  return ((await r.json()) as { keys: Array<{ kid: string; alg: string }> }).keys.map(({ kid, alg }) => ({ kid, alg }));
}

/** Raises `user` to high and returns the SET the receiver got for them. */
async function setFor(user: string): Promise<ReceivedSet> {
  await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(user));
  return waitFor(() => receiver.received.find((s) => JSON.stringify(s.claims).includes(user)), { what: `the SET of ${user}` });
}

describe('kind okta with no RS256 key configured', () => {
  const pem = (): string => join(cfg.dir, 'keys', 'signing.rs256.pem');
  const jwk = (): { kid: string; alg: string; d?: string } =>
    JSON.parse(readFileSync(join(cfg.dir, 'keys', 'signing.rs256.jwk.json'), 'utf8')) as { kid: string; alg: string };

  it('the worker starts, generates keys/signing.rs256.pem, publishes it and signs the okta SETs RS256 with it', async () => {
    const w = await start();
    expect(existsSync(pem())).toBe(true);
    expect(statSync(pem()).mode & 0o777).toBe(0o600);
    const { kid, alg, d } = jwk();
    expect([alg, d]).toEqual(['RS256', undefined]);
    // Logged by file, alg and kid; never the key.
    expect(w.output()).toContain(kid);
    expect(w.output()).not.toContain('PRIVATE KEY');
    expect(await publishedKids(w)).toContainEqual({ kid, alg: 'RS256' });
    const set = await setFor('implicit-1@example.com');
    expect(set.verified).toBe(true);
    expect(set.header).toMatchObject({ alg: 'RS256', kid, typ: 'secevent+jwt' });
    expect(eventOf(set).type).toBe(OKTA_USER_RISK_CHANGE);
    expect(await w.stop()).toBe(0);
  }, 90_000);

  it('a restart reuses the file (the same kid), generating nothing', async () => {
    const before = readFileSync(pem(), 'utf8');
    const { kid } = jwk();
    const w = await start();
    expect(readFileSync(pem(), 'utf8')).toBe(before);
    expect(w.output()).not.toContain('generated');
    const set = await setFor('implicit-2@example.com');
    expect(set.verified).toBe(true);
    expect(set.header).toMatchObject({ alg: 'RS256', kid });
    expect(await w.stop()).toBe(0);
  }, 90_000);

  it('an RS256 key configured under signing.keys is used instead', async () => {
    const explicit = await generateKeyFiles('RS256', rsa, 'okta');
    const file = join(cfg.dir, 'riskstream.yaml');
    const main = parse(readFileSync(file, 'utf8')) as { signing: Record<string, unknown> };
    writeFileSync(file, stringify({ ...main, signing: { ...main.signing, keys: [{ key_file: explicit.privateKeyFile, alg: 'RS256' }] } }));
    rmSync(pem());
    rmSync(join(cfg.dir, 'keys', 'signing.rs256.jwk.json'));
    const w = await start();
    expect(existsSync(pem())).toBe(false);
    const set = await setFor('explicit-1@example.com');
    expect(set.verified).toBe(true);
    expect(set.header).toMatchObject({ alg: 'RS256', kid: explicit.kid });
    expect(await w.stop()).toBe(0);
  }, 90_000);
});
