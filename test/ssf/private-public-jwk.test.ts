/**
 * `signing.previous_public_keys` names public JWK files. A file there that holds a private key (a
 * JWK with `d`, RSA's `p`/`q`/`dp`/`dq`/`qi`, or a symmetric `k`) is the operator's key-handling
 * mistake — the private key of a retired key left where public material belongs. It was accepted
 * (its private members silently stripped); it is KEY_INVALID now — at load, at start and reload,
 * and in `config check` — with no key material in the error. And whatever the published keys'
 * record holds, GET /.well-known/jwks.json serves public members only.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { riskstreamSchema } from '../../src/config/schema.js';
import { Keys } from '../../src/keys.js';
import { isRiskstreamError } from '../../src/errors.js';
import { loadPublicJwk } from '../../src/ssf/jwks.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { call, startApiWorker, type ApiWorker } from '../api/helpers.js';
import { runCli } from '../cli/run.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/** Every member of a private or symmetric JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let dir: string;
let es: JWK;
let rs: JWK;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rs-private-jwk-'));
  es = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
  rs = await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The secret values of `jwk` (what no error may echo). */
const secrets = (jwk: JWK): string[] =>
  PRIVATE.flatMap((m) => {
    const v = (jwk as Record<string, unknown>)[m];
    return typeof v === 'string' ? [v] : [];
  });

/** Writes `jwk` to `name` in the temp dir; its path. */
async function jwkFile(name: string, jwk: JWK): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(jwk));
  return file;
}

async function keyInvalid(p: Promise<unknown>, hidden: string[]): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err && isRiskstreamError(err, 'KEY_INVALID')).toBe(true);
  const text = `${err!.message} ${JSON.stringify(err)} ${inspect(err)}`;
  for (const s of hidden) expect(text).not.toContain(s);
}

describe('a private JWK named as a previous public key', () => {
  it('loadPublicJwk: an EC or RSA private JWK, a public one with one private member, a symmetric key: KEY_INVALID, no key material in the error', async () => {
    const pub = (jwk: JWK): JWK => Object.fromEntries(Object.entries(jwk).filter(([m]) => !PRIVATE.includes(m)));
    const cases: Array<[string, JWK]> = [
      ['es-private.json', es],
      ['rs-private.json', rs],
      ['rs-only-p.json', { ...pub(rs), p: rs.p! }],
      ['rs-only-qi.json', { ...pub(rs), qi: rs.qi! }],
      ['oct.json', { kty: 'oct', alg: 'ES256', k: 'c2VjcmV0LXN5bW1ldHJpYy1rZXktbWF0ZXJpYWw' }],
    ];
    for (const [name, jwk] of cases) await keyInvalid(loadPublicJwk(await jwkFile(name, jwk)), secrets(jwk));
    // Their public halves load.
    expect((await loadPublicJwk(await jwkFile('es-public.json', pub(es)))).kty).toBe('EC');
    expect((await loadPublicJwk(await jwkFile('rs-public.json', pub(rs)))).kty).toBe('RSA');
  });

  it("loadPublicJwk: a public JWK that cannot verify as its alg (kty or curve not the alg's, a member missing): KEY_INVALID", async () => {
    const pub = (jwk: JWK): JWK => Object.fromEntries(Object.entries(jwk).filter(([m]) => !PRIVATE.includes(m)));
    const { y: _y, ...noY } = pub(es);
    const cases: Array<[string, JWK]> = [
      ['rsa-as-es256.json', { ...pub(rs), alg: 'ES256' }],
      ['ec-as-rs256.json', { ...pub(es), alg: 'RS256' }],
      ['ec-p384.json', { ...pub(es), crv: 'P-384' }],
      ['ec-no-y.json', noY],
      ['rsa-no-n.json', { kty: 'RSA', e: 'AQAB' }],
    ];
    for (const [name, jwk] of cases) await keyInvalid(loadPublicJwk(await jwkFile(name, jwk)), []);
  });

  it('KeyRing.fromConfig (worker start and reload): KEY_INVALID', async () => {
    const cfg = join(dir, 'ring');
    await generateKeyFiles('ES256', cfg, 'signing');
    await writeFile(join(cfg, 'old.jwk.json'), JSON.stringify(es));
    const raw = riskstreamSchema.parse({ signing: { key_file: 'signing.pem', alg: 'ES256', previous_public_keys: ['old.jwk.json'] } });
    await keyInvalid(KeyRing.fromConfig({ dir: cfg, raw, receivers: [] }), secrets(es));
  });

  it('config check reports it at its entry, exit 1, without the key material', async () => {
    const cfg = join(dir, 'check');
    await mkdir(cfg, { recursive: true });
    await generateKeyFiles('ES256', cfg, 'signing');
    await writeFile(join(cfg, 'old.jwk.json'), JSON.stringify(rs));
    await writeFile(
      join(cfg, 'riskstream.yaml'),
      'signing:\n  key_file: signing.pem\n  alg: ES256\n  previous_public_keys:\n    - signing.jwk.json\n    - old.jwk.json\n',
    );
    const r = await runCli(['config', 'check', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${cfg}/riskstream\\.yaml:6:7 signing\\.previous_public_keys\\[1\\]: `, 'm'));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    for (const s of secrets(rs)) expect(`${r.stdout}${r.stderr}`).not.toContain(s);
  });
});

describe('GET /.well-known/jwks.json', () => {
  const prefix = testPrefix('private-jwk');
  const redis = redisClient();
  let w: ApiWorker | undefined;

  afterAll(async () => {
    await w?.close();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it("serves public members only, even of a private key in the deployment's record of published keys", async () => {
    // As another worker (or a hand edit) might have recorded it: a private EC and RSA key, and a symmetric one.
    const planted: JWK[] = [
      { ...es, kid: 'planted-es', alg: 'ES256' },
      { ...rs, kid: 'planted-rs', alg: 'RS256' },
      { kty: 'oct', kid: 'planted-oct', alg: 'ES256', k: 'c2VjcmV0LXN5bW1ldHJpYy1rZXktbWF0ZXJpYWw' },
    ];
    const now = Date.now();
    await redis.hset(new Keys(prefix).jwksPublished, ...planted.flatMap((jwk) => [jwk.kid!, JSON.stringify({ jwk, last: now })]));
    w = await startApiWorker(prefix);
    const r = await call(w.url, '/.well-known/jwks.json');
    expect(r.status).toBe(200);
    const keys = r.json.keys as Array<Record<string, unknown>>;
    expect(keys.map((k) => k.kid)).toEqual(expect.arrayContaining(['planted-es', 'planted-rs']));
    for (const k of keys) for (const m of PRIVATE) expect(k, `${String(k.kid)}.${m}`).not.toHaveProperty(m);
    for (const s of planted.flatMap(secrets)) expect(r.text).not.toContain(s);
  });
});
