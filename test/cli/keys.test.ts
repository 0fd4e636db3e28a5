import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './in-process.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'riskstream-keys-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('riskstream keys generate', () => {
  it('--alg ES256 --out <dir>: a 0600 PKCS#8 PEM and a public JWK without `d` that verifies its signatures', async () => {
    const out = join(tmp, 'es');
    const r = await runCli(['keys', 'generate', '--alg', 'ES256', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /private: (\S+)\n\s+public:\s+(\S+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [, pemFile, jwkFile] = m!;
    expect(readdirSync(out).sort()).toEqual([pemFile!, jwkFile!].map((f) => f.slice(f.lastIndexOf('/') + 1)).sort());

    expect(statSync(pemFile!).mode & 0o777).toBe(0o600);
    const pem = readFileSync(pemFile!, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const jwk = JSON.parse(readFileSync(jwkFile!, 'utf8')) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String), x: expect.any(String), y: expect.any(String) });
    expect(jwk.d).toBeUndefined();
    expect(r.stdout).toContain(String(jwk.kid));

    // The pair belongs together.
    const token = await new SignJWT({ ok: true }).setProtectedHeader({ alg: 'ES256', kid: String(jwk.kid) }).sign(await importPKCS8(pem, 'ES256'));
    expect((await jwtVerify(token, await importJWK(jwk, 'ES256'))).payload.ok).toBe(true);
  });

  it('RS256 too; refuses to overwrite; rejects an unknown --alg or a missing --out', async () => {
    const out = join(tmp, 'rs');
    const r = await runInProcess(['keys', 'generate', '--alg', 'RS256', '--out', out, '--name', 'okta']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('okta.pem');
    const jwk = JSON.parse(readFileSync(join(out, 'okta.jwk.json'), 'utf8')) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', e: 'AQAB' });
    for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwk[k]).toBeUndefined();
    expect(statSync(join(out, 'okta.pem')).mode & 0o777).toBe(0o600);

    const again = await runInProcess(['keys', 'generate', '--alg', 'RS256', '--out', out, '--name', 'okta']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    // Either file there already: nothing written at all (never a private key beside another's JWK).
    for (const [present, absent] of [
      ['half.jwk.json', 'half.pem'],
      ['other.pem', 'other.jwk.json'],
    ] as const) {
      writeFileSync(join(out, present), '{}\n');
      const r2 = await runInProcess(['keys', 'generate', '--out', out, '--name', present.split('.')[0]!]);
      expect(r2.code).toBe(1);
      expect(existsSync(join(out, absent)), absent).toBe(false);
      expect(readFileSync(join(out, present), 'utf8')).toBe('{}\n');
    }
    const hs = await runInProcess(['keys', 'generate', '--alg', 'HS256', '--out', out]);
    expect(hs.code).toBe(1);
    expect(hs.stderr).toMatch(/--alg must be one of ES256, RS256/);
    const noOut = await runInProcess(['keys', 'generate']);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toMatch(/--out/);
  });
});
