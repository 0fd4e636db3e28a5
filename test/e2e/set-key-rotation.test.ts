/**
 * CONTRACT §5 `/.well-known/jwks.json` "current and previous public keys", black-box: the signing
 * key rotated by SIGHUP (signing.key_file pointed at a new key) and by a restart; a SET signed
 * before the rotation still verifies against the JWKS served after it, and new SETs carry the new
 * key's kid.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, spawnWorker, workerHarness } from '../helpers/worker.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';

const h = workerHarness('set-key-rotation', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/rx` }] }));
const jwks = async (): Promise<JSONWebKeySet> => (await (await fetch(`${h.worker.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
const setOf = (user: string) => h.receiver.received.find((s) => (s.claims.sub_id as { email?: string }).email === user);
const editConfig = (f: (c: Record<string, any>) => void): void => {
  const file = join(h.cfg.dir, 'riskstream.yaml');
  const c = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  f(c);
  writeFileSync(file, stringify(c));
};

describe('JWKS across a key rotation', () => {
  it('SIGHUP, then a restart: the previous key stays published; old and new SETs verify', async () => {
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('before@example.com'));
    const before = await waitFor(() => setOf('before@example.com'), { timeout: 10_000, what: 'a SET under the first key' });
    const oldKid = before.header.kid as string;

    await generateKeyFiles('ES256', join(h.cfg.dir, 'keys'), 'next');
    editConfig((c) => (c.signing = { ...c.signing, key_file: 'keys/next.pem' }));
    h.worker.child.kill('SIGHUP');
    const after = await waitFor(async () => ((await jwks()).keys.length >= 2 ? await jwks() : null), { timeout: 10_000, what: 'the new key published' });
    const kids = after.keys.map((k) => k.kid);
    expect(kids).toContain(oldKid);
    await expect(jwtVerify(before.token, createLocalJWKSet(after), { typ: 'secevent+jwt' })).resolves.toBeTruthy();

    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('after@example.com'));
    const next = await waitFor(() => setOf('after@example.com'), { timeout: 10_000, what: 'a SET under the new key' });
    expect(next.header.kid).not.toBe(oldKid);
    expect(kids).toContain(next.header.kid);
    await expect(jwtVerify(next.token, createLocalJWKSet(after), { typ: 'secevent+jwt' })).resolves.toBeTruthy();

    // A restart with only the new key configured still publishes the previous one.
    await h.worker.stop();
    h.worker = await spawnWorker(h.cfg.dir);
    const restarted = await jwks();
    expect(restarted.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, next.header.kid as string]));
    expect(restarted.keys.every((k) => (k as Record<string, unknown>).d === undefined)).toBe(true);
  }, 40_000);
});
