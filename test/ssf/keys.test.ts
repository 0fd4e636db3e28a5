import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { riskstreamSchema } from '../../src/config/schema.js';
import { isRiskstreamError } from '../../src/errors.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { generateKeyFiles, generateSigningKey, loadSigningKey } from '../../src/ssf/keys.js';
import { ensureSigningKey } from '../../src/ssf/signing-key-file.js';
import { createLogger } from '../../src/obs/logger.js';
import { loadPublicJwk } from '../../src/ssf/jwks.js';
import { implicitKeyFile, implicitKeySpecs } from '../../src/ssf/implicit-keys.js';
import { buildLevelChangeSet } from '../../src/ssf/set-builder.js';
import { buildAndSign } from '../../src/ssf/signer.js';
import { change, testReceiver, verifySet } from './helpers.js';
import type { SigningAlg } from '../../src/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rs-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rx = testReceiver('acme', 'https://acme.example.net/ssf');

function signWith(ring: KeyRing, alg: SigningAlg, jti: string) {
  return buildAndSign(ring, alg, (key) =>
    buildLevelChangeSet({ issuer: 'https://rs.example.com', receiver: rx, key, now: Date.now(), jti, change: change('a@example.com', 1, 'low', 'high') }),
  );
}

async function expectError(p: Promise<unknown>, code: string, notContaining: string[] = []): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err && isRiskstreamError(err, code as never)).toBe(true);
  const text = `${err!.message} ${JSON.stringify(err)} ${inspect(err)}`;
  for (const s of notContaining) expect(text).not.toContain(s);
  return err!;
}

describe('signing keys', () => {
  it.each(['ES256', 'RS256'] as const)('generateKeyFiles(%s) writes a 0600 PKCS#8 PEM and a public JWK; kid = RFC 7638 thumbprint', async (alg) => {
    const out = await generateKeyFiles(alg, join(dir, 'gen'));
    expect((await stat(out.privateKeyFile)).mode & 0o777).toBe(0o600);
    const pem = await readFile(out.privateKeyFile, 'utf8');
    expect(pem).toContain('BEGIN PRIVATE KEY');
    const pub = JSON.parse(await readFile(out.publicJwkFile, 'utf8')) as JWK;
    expect(pub).not.toHaveProperty('d');
    expect(pub).toMatchObject({ kid: out.kid, alg, use: 'sig' });
    expect(out.kid).toBe(await calculateJwkThumbprint(pub, 'sha256'));
    const loaded = await loadSigningKey(out.privateKeyFile, alg);
    expect(loaded.kid).toBe(out.kid);
    expect((await loadPublicJwk(out.publicJwkFile)).kid).toBe(out.kid);
    await expectError(generateKeyFiles(alg, join(dir, 'gen'), out.privateKeyFile.replace(/^.*\/|\.pem$/g, '')), 'KEY_INVALID');
  });

  it('loads a private JWK file; a configured kid wins; errors carry codes and no key material', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const file = join(dir, 'es.jwk.json');
    await writeFile(file, JSON.stringify(jwk));
    const key = await loadSigningKey(file, 'ES256', 'my-kid');
    expect(key.kid).toBe('my-kid');
    expect(key.publicJwk).not.toHaveProperty('d');

    const pem = await exportPKCS8(privateKey);
    const pemFile = join(dir, 'es.pem');
    await writeFile(pemFile, pem);
    const body = pem.split('\n')[1]!;
    await expectError(loadSigningKey(pemFile, 'RS256'), 'KEY_INVALID', [body, jwk.d!]);
    await expectError(loadSigningKey(file, 'RS256'), 'KEY_INVALID', [jwk.d!]);
    await expectError(loadSigningKey(join(dir, 'missing.pem'), 'ES256'), 'KEY_NOT_FOUND');
  });

  it('KeyRing.fromConfig: current key per alg, extra keys published, missing receiver alg is an error', async () => {
    const es = await generateKeyFiles('ES256', join(dir, 'cfg'), 'signing');
    const rs = await generateKeyFiles('RS256', join(dir, 'cfg'), 'okta');
    const old = await generateKeyFiles('ES256', join(dir, 'cfg'), 'old');
    const raw = riskstreamSchema.parse({
      signing: { key_file: 'signing.pem', alg: 'ES256', keys: [{ key_file: 'okta.pem', alg: 'RS256' }], previous_public_keys: ['old.jwk.json'] },
    });
    const okta = testReceiver('okta', 'https://o.example.com', { kind: 'okta' });
    const ring = await KeyRing.fromConfig({ dir: join(dir, 'cfg'), raw, receivers: [okta] });
    expect(ring.key('ES256').kid).toBe(es.kid);
    expect(ring.key('RS256').kid).toBe(rs.kid);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([es.kid, rs.kid, old.kid]);

    const esOnly = riskstreamSchema.parse({ signing: { key_file: 'signing.pem' } });
    await expectError(KeyRing.fromConfig({ dir: join(dir, 'cfg'), raw: esOnly, receivers: [okta] }), 'KEY_NOT_FOUND');
  });

  it('implicit keys: an enabled receiver alg no configured key has signs with <key_file base>.<alg>.pem beside signing.key_file; a configured key wins; kids still clash', async () => {
    expect(implicitKeyFile('keys/signing.pem', 'RS256')).toBe(join('keys', 'signing.rs256.pem'));
    expect(implicitKeyFile('/etc/rs/main.pem', 'ES256')).toBe('/etc/rs/main.es256.pem');
    expect(implicitKeyFile('keys/signing.jwk.json', 'RS256')).toBeUndefined();
    const okta = testReceiver('okta', 'https://o.example.com', { kind: 'okta' });
    const es = testReceiver('es', 'https://es.example.com', { alg: 'ES256' });
    const specs = (signing: Record<string, unknown>, receivers = [okta]) =>
      implicitKeySpecs({ raw: riskstreamSchema.parse({ signing }), receivers }).map((k) => [k.key_file, k.alg]);
    expect(specs({ key_file: 'k/signing.pem' })).toEqual([[join('k', 'signing.rs256.pem'), 'RS256']]);
    expect(specs({ key_file: 'k/signing.pem', keys: [{ key_file: 'o.pem', alg: 'RS256' }] })).toEqual([]);
    expect(specs({ key_file: 'k/signing.pem' }, [{ ...okta, enabled: false }])).toEqual([]);
    expect(specs({ key_file: 'k/signing.pem', alg: 'RS256' }, [okta, es])).toEqual([[join('k', 'signing.es256.pem'), 'ES256']]);
    expect(specs({ key_file: 'k/signing.jwk.json' })).toEqual([]);

    const cfgDir = join(dir, 'implicit');
    const main = await generateKeyFiles('ES256', cfgDir, 'signing');
    const raw = riskstreamSchema.parse({ signing: { key_file: 'signing.pem' } });
    await expectError(KeyRing.fromConfig({ dir: cfgDir, raw, receivers: [okta] }), 'KEY_NOT_FOUND'); // not generated here
    const rs = await generateKeyFiles('RS256', cfgDir, 'signing.rs256');
    const ring = await KeyRing.fromConfig({ dir: cfgDir, raw, receivers: [okta] });
    expect([ring.key('ES256').kid, ring.key('RS256').kid]).toEqual([main.kid, rs.kid]);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([main.kid, rs.kid]);
    // Not needed (no RS256 receiver): not loaded.
    expect((await KeyRing.fromConfig({ dir: cfgDir, raw, receivers: [] })).has('RS256')).toBe(false);
    // The main key given the implicit key's kid: one kid naming two keys.
    const clash = riskstreamSchema.parse({ signing: { key_file: 'signing.pem', kid: rs.kid } });
    await expectError(KeyRing.fromConfig({ dir: cfgDir, raw: clash, receivers: [okta] }), 'KEY_INVALID');
  });

  it('a worker finding the key file still being written by another (created, empty) waits for its key: several workers settle on one file', async () => {
    const d = join(dir, 'racing');
    await mkdir(join(d, 'keys'), { recursive: true });
    const file = join(d, 'keys', 'signing.pem');
    const winner = await generateSigningKey('ES256');
    await writeFile(file, ''); // the other worker's exclusive create, its key not yet written
    const writing = new Promise((r) => setTimeout(r, 200)).then(() => writeFile(file, winner.pkcs8));
    await ensureSigningKey({ dir: d, raw: riskstreamSchema.parse({ signing: { key_file: 'keys/signing.pem' } }), receivers: [] }, createLogger('silent'));
    expect((await loadSigningKey(file, 'ES256')).kid).toBe(winner.key.kid);
    await writing;
  });

  it('KeyRing.fromConfig: one kid naming two different keys is KEY_INVALID (the JWKS would publish one); the same key twice is fine', async () => {
    await generateKeyFiles('ES256', join(dir, 'kids'), 'signing');
    await generateKeyFiles('RS256', join(dir, 'kids'), 'okta');
    const clash = riskstreamSchema.parse({
      signing: { key_file: 'signing.pem', alg: 'ES256', kid: 'samekid', keys: [{ key_file: 'okta.pem', alg: 'RS256', kid: 'samekid' }] },
    });
    await expectError(KeyRing.fromConfig({ dir: join(dir, 'kids'), raw: clash, receivers: [] }), 'KEY_INVALID');
    const twice = riskstreamSchema.parse({
      signing: { key_file: 'signing.pem', alg: 'ES256', kid: 'k1', keys: [{ key_file: 'signing.pem', alg: 'ES256', kid: 'k1' }] },
    });
    expect((await KeyRing.fromConfig({ dir: join(dir, 'kids'), raw: twice, receivers: [] })).jwks().keys.map((k) => k.kid)).toEqual(['k1']);
  });

  it('a key name is a file name: one with directories is KEY_INVALID (found by a black-box review: --name ../x wrote outside --out); a malformed public JWK file is KEY_INVALID, a missing one KEY_NOT_FOUND', async () => {
    for (const name of ['../escaped', 'a/b', '..', '']) await expectError(generateKeyFiles('ES256', join(dir, 'names', 'sub'), name), 'KEY_INVALID');
    await expect(stat(join(dir, 'names', 'escaped.pem'))).rejects.toThrow();
    await writeFile(join(dir, 'bad.jwk.json'), 'not json');
    await expectError(loadPublicJwk(join(dir, 'bad.jwk.json')), 'KEY_INVALID');
    await expectError(loadPublicJwk(join(dir, 'absent.jwk.json')), 'KEY_NOT_FOUND');
  });

  it('an RSA key under 2048 bits is KEY_INVALID when loaded (found by a black-box review: accepted, every RS256 SET then failed)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const file = join(dir, 'rsa1024.pem');
    await writeFile(file, privateKey);
    const err = await expectError(loadSigningKey(file, 'RS256'), 'KEY_INVALID');
    expect(err.message).toMatch(/1024 bits; RS256 needs 2048 or more/);
    const ok = await generateKeyFiles('RS256', join(dir, 'rsa2048'));
    expect((await loadSigningKey(ok.privateKeyFile, 'RS256')).kid).toBe(ok.kid);
  });

  it("KeyRing.fromConfig: the signing key's own kid in withdrawn_kids is KEY_INVALID (found by a black-box review: its SETs were signed, its key withdrawn)", async () => {
    const out = await generateKeyFiles('ES256', join(dir, 'withdrawn'), 'signing');
    const raw = riskstreamSchema.parse({ signing: { key_file: 'signing.pem', alg: 'ES256', withdrawn_kids: [out.kid] } });
    await expectError(KeyRing.fromConfig({ dir: join(dir, 'withdrawn'), raw, receivers: [] }), 'KEY_INVALID');
    const other = riskstreamSchema.parse({ signing: { key_file: 'signing.pem', alg: 'ES256', withdrawn_kids: ['an-old-kid'] } });
    expect((await KeyRing.fromConfig({ dir: join(dir, 'withdrawn'), raw: other, receivers: [] })).jwks().keys.map((k) => k.kid)).toEqual([out.kid]);
  });

  it('rotation: SETs signed before and after verify against the published JWKS until the grace period ends', async () => {
    const ring = new KeyRing();
    await ring.rotate('ES256', { outDir: join(dir, 'rot') });
    const before = await signWith(ring, 'ES256', 'before');
    const oldKid = ring.key('ES256').kid;
    const now = Date.now();
    await ring.rotate('ES256', { graceMs: 60_000, now });
    const after = await signWith(ring, 'ES256', 'after');
    expect(ring.key('ES256').kid).not.toBe(oldKid);
    expect((await verifySet(before, ring, rx.audience)).payload.jti).toBe('before');
    expect((await verifySet(after, ring, rx.audience)).protectedHeader.kid).toBe(ring.key('ES256').kid);
    expect(ring.jwks(now + 60_001).keys.map((k) => k.kid)).toEqual([ring.key('ES256').kid]);
  });

  it('private key material never shows in JSON, inspect or error output', async () => {
    const ring = new KeyRing();
    const gen = await generateKeyFiles('RS256', join(dir, 'leak'));
    ring.setCurrent(gen.key);
    const full = await exportJWK(await importPKCS8(await readFile(gen.privateKeyFile, 'utf8'), 'RS256', { extractable: true }));
    const secrets = [full.d!, full.p!, full.q!, full.dp!, full.dq!, full.qi!];
    const outputs = [
      JSON.stringify(ring),
      inspect(ring, { depth: 10, showHidden: true }),
      JSON.stringify(gen.key),
      inspect(gen.key, { depth: 10, showHidden: true }),
      JSON.stringify(ring.jwks()),
      inspect(gen, { depth: 10 }),
    ];
    for (const out of outputs) {
      expect(out).not.toMatch(/PRIVATE KEY/);
      for (const s of secrets) expect(out).not.toContain(s);
    }
    expect(JSON.stringify(ring)).toContain(gen.kid);
    for (const k of ring.jwks().keys) for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(m);
    const err = await expectError(
      Promise.resolve().then(() => new KeyRing().key('ES256')),
      'KEY_NOT_FOUND',
    );
    expect(err.message).toMatch(/no ES256 signing key/);
  });
});
