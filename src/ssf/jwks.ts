/** Public side of the signing keys: JWK Set documents and public JWK files of retired keys. */
import { readFile } from 'node:fs/promises';
import { importJWK, type JWK } from 'jose';
import { RiskstreamError } from '../errors.js';
import { SIGNING_ALGS, type SigningAlg } from '../types.js';
import { thumbprint, toPublicJwk } from './keys.js';

/** The document served at `/.well-known/jwks.json`. */
export interface JwksDocument {
  keys: JWK[];
}

/** A JWK Set from public JWKs: private members stripped, first key per `kid` wins. */
export function jwksDocument(keys: Iterable<JWK>): JwksDocument {
  const seen = new Set<string>();
  const out: JWK[] = [];
  for (const k of keys) {
    if (!k.kid || seen.has(k.kid)) continue;
    seen.add(k.kid);
    out.push(toPublicJwk(k, k.alg as SigningAlg, k.kid));
  }
  return { keys: out };
}

function algOf(jwk: JWK): SigningAlg | undefined {
  if ((SIGNING_ALGS as readonly unknown[]).includes(jwk.alg)) return jwk.alg as SigningAlg;
  if (jwk.alg) return undefined;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}

/**
 * True when `jwk`'s public members import as an `alg` verification key: its kty and curve are the
 * alg's and no member is missing (a file saying ES256 over an RSA key would be published so, and
 * every receiver fail to verify with it).
 */
async function verifiesAs(jwk: JWK, alg: SigningAlg): Promise<boolean> {
  try {
    await importJWK(toPublicJwk(jwk, alg, 'check'), alg);
    return true;
  } catch {
    return false;
  }
}

/** Members of a private or symmetric JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1): none belongs in a public key file. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Reads a public JWK file (e.g. a retired key's `<name>.jwk.json`) for publishing; `kid` defaults
 * to the RFC 7638 thumbprint. A file holding a private (or symmetric) key is KEY_INVALID: a private
 * key where the operator keeps public ones is a key-handling mistake to fix, not to publish around.
 * Errors name the file and the members, never their values.
 */
export async function loadPublicJwk(file: string): Promise<JWK> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new RiskstreamError('KEY_NOT_FOUND', `cannot read public JWK file ${file}`, { file });
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new RiskstreamError('KEY_INVALID', `${file}: not valid JSON (a public JWK)`, { file });
  }
  const isObject = typeof jwk === 'object' && jwk !== null;
  const held = isObject ? PRIVATE_MEMBERS.filter((m) => Object.hasOwn(jwk, m)) : [];
  if (held.length)
    throw new RiskstreamError(
      'KEY_INVALID',
      `${file}: holds a private key (${held.join(', ')}), not a public JWK: name the key's public JWK file instead (\`keys generate\` writes it as <name>.jwk.json beside the private key)`,
      { file, members: held },
    );
  const alg = isObject ? algOf(jwk) : undefined;
  if (!alg || !(await verifiesAs(jwk, alg))) throw new RiskstreamError('KEY_INVALID', `${file}: not an ES256 (P-256) or RS256 public JWK`, { file });
  return toPublicJwk(jwk, alg, jwk.kid ?? (await thumbprint(jwk)));
}
