/**
 * SET signing keys: loading (PKCS#8 PEM or JWK files), generation, public JWKs. Private key
 * material is held in a private field and never appears in JSON, inspect output or errors.
 */
import { readFile, writeFile, unlink } from 'node:fs/promises';
import { makeDirs } from '../make-dirs.js';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { RiskstreamError } from '../errors.js';
import type { SigningAlg } from '../types.js';

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/** The public members of a JWK (drops `d`, `p`, `q`, … and anything else), plus kid/alg/use. */
export function toPublicJwk(jwk: JWK, alg: SigningAlg, kid: string): JWK {
  const out: JWK = {};
  for (const m of PUBLIC_MEMBERS) if (jwk[m] !== undefined) out[m] = jwk[m];
  return { ...out, kid, alg, use: 'sig' };
}

/** RFC 7638 SHA-256 thumbprint of a JWK (base64url). */
export function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** A private signing key with its public JWK. Safe to log: only alg and kid show. */
export class SigningKey {
  readonly #privateKey: CryptoKey;

  constructor(
    readonly alg: SigningAlg,
    readonly kid: string,
    privateKey: CryptoKey,
    /** Public JWK (kty, crv/x/y or n/e, kid, alg, use). */
    readonly publicJwk: JWK,
  ) {
    this.#privateKey = privateKey;
  }

  /** The key to sign with. Do not log or serialise it. */
  get privateKey(): CryptoKey {
    return this.#privateKey;
  }

  toJSON(): { alg: SigningAlg; kid: string; publicJwk: JWK } {
    return { alg: this.alg, kid: this.kid, publicJwk: this.publicJwk };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SigningKey { alg: '${this.alg}', kid: '${this.kid}' }`;
  }
}

function keyError(code: 'KEY_INVALID' | 'KEY_NOT_FOUND', message: string, file?: string): RiskstreamError {
  return new RiskstreamError(code, message, file ? { file } : undefined);
}

/** Imports private material twice: extractable once to derive the public JWK, then not. */
async function fromMaterial(importer: (extractable: boolean) => Promise<CryptoKey>, alg: SigningAlg, kid: string | undefined): Promise<SigningKey> {
  const full = await exportJWK(await importer(true));
  const id = kid ?? (await thumbprint(full)); // RFC 7638 uses only the required public members
  return new SigningKey(alg, id, await importer(false), toPublicJwk(full, alg, id));
}

/**
 * Loads a private key for `alg` from a PKCS#8 PEM file or a private JWK (JSON) file.
 * `kid` defaults to the JWK's own `kid`, else its RFC 7638 thumbprint.
 * Throws KEY_NOT_FOUND / KEY_INVALID (messages name the file, never its content).
 */
export async function loadSigningKey(file: string, alg: SigningAlg, kid?: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw keyError('KEY_NOT_FOUND', `cannot read signing key file ${file}`, file);
  }
  return parseSigningKey(text, alg, kid, file);
}

/** Fewest bits of an RS256 key: jose refuses to sign with a smaller one (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

/**
 * Parses private key text (PKCS#8 PEM or private JWK JSON). `source` names it in errors. An RSA
 * key under {@link MIN_RSA_BITS} is KEY_INVALID here: accepted, every SET it would sign would fail.
 */
export async function parseSigningKey(text: string, alg: SigningAlg, kid?: string, source = 'key'): Promise<SigningKey> {
  const key = await parseKeyText(text, alg, kid, source);
  const bits = typeof key.publicJwk.n === 'string' ? Buffer.from(key.publicJwk.n, 'base64url').length * 8 : undefined;
  if (bits !== undefined && bits < MIN_RSA_BITS)
    throw keyError('KEY_INVALID', `${source}: an RSA key of ${bits} bits; ${alg} needs ${MIN_RSA_BITS} or more`, source);
  return key;
}

async function parseKeyText(text: string, alg: SigningAlg, kid: string | undefined, source: string): Promise<SigningKey> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(trimmed) as JWK;
    } catch {
      throw keyError('KEY_INVALID', `${source}: not valid JSON`, source);
    }
    if (typeof jwk.d !== 'string') throw keyError('KEY_INVALID', `${source}: JWK has no private part ("d")`, source);
    if (jwk.alg && jwk.alg !== alg) throw keyError('KEY_INVALID', `${source}: JWK alg ${jwk.alg} does not match ${alg}`, source);
    try {
      return await fromMaterial((extractable) => importJWK(jwk, alg, { extractable }) as Promise<CryptoKey>, alg, kid ?? jwk.kid);
    } catch {
      throw keyError('KEY_INVALID', `${source}: not a usable ${alg} private JWK`, source);
    }
  }
  if (/-----BEGIN (EC|RSA) PRIVATE KEY-----/.test(trimmed)) {
    throw keyError('KEY_INVALID', `${source}: SEC1/PKCS#1 PEM; convert with: openssl pkcs8 -topk8 -nocrypt -in <file>`, source);
  }
  if (!trimmed.includes('-----BEGIN PRIVATE KEY-----')) {
    throw keyError('KEY_INVALID', `${source}: expected a PKCS#8 PEM ("BEGIN PRIVATE KEY") or a private JWK`, source);
  }
  try {
    return await fromMaterial((extractable) => importPKCS8(trimmed, alg, { extractable }), alg, kid);
  } catch {
    throw keyError('KEY_INVALID', `${source}: not a ${alg} PKCS#8 private key`, source);
  }
}

/** A fresh key pair in memory, plus its PKCS#8 PEM for writing to disk. */
export async function generateSigningKey(alg: SigningAlg): Promise<{ key: SigningKey; pkcs8: string }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const pkcs8 = await exportPKCS8(privateKey);
  return { key: await parseSigningKey(pkcs8, alg), pkcs8 };
}

/** Files written by {@link generateKeyFiles}. */
export interface GeneratedKeyFiles {
  alg: SigningAlg;
  kid: string;
  /** `<name>.pem`, PKCS#8, mode 0600. */
  privateKeyFile: string;
  /** `<name>.jwk.json`, the public JWK. */
  publicJwkFile: string;
  key: SigningKey;
}

/**
 * Generates a key pair and writes `<outDir>/<name>.pem` (0600) and `<name>.jwk.json`.
 * `name` defaults to `<alg>-<kid prefix>`. Never overwrites an existing file (KEY_INVALID).
 */
export async function generateKeyFiles(alg: SigningAlg, outDir: string, name?: string): Promise<GeneratedKeyFiles> {
  // A name is a file name in `outDir`, never a path out of it (`../x`).
  if (name !== undefined && (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)))
    throw keyError('KEY_INVALID', `key name ${JSON.stringify(name)}: a file name without directories`, outDir);
  const { key, pkcs8 } = await generateSigningKey(alg);
  const base = name ?? `${alg.toLowerCase()}-${key.kid.slice(0, 12).replace(/[^A-Za-z0-9_-]/g, '')}`;
  const privateKeyFile = join(outDir, `${base}.pem`);
  const publicJwkFile = join(outDir, `${base}.jwk.json`);
  await makeDirs(outDir, 0o700).catch((err: NodeJS.ErrnoException) => {
    throw keyError('KEY_INVALID', `cannot create the directory ${outDir} (${err.code ?? 'error'})`, outDir);
  });
  const refuse = (err: unknown): never => {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw keyError('KEY_INVALID', exists ? `refusing to overwrite existing key files ${base}.* in ${outDir}` : `cannot write key files in ${outDir}`, outDir);
  };
  // The public file first: when either exists nothing is left behind (a private key without its JWK).
  try {
    await writeFile(publicJwkFile, `${JSON.stringify(key.publicJwk, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    refuse(err);
  }
  try {
    await writeFile(privateKeyFile, pkcs8, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await unlink(publicJwkFile).catch(() => undefined);
    refuse(err);
  }
  return { alg, kid: key.kid, privateKeyFile, publicJwkFile, key };
}
