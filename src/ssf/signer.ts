/** Signs built SETs (compact JWS) with the ring's current key for the receiver's alg. */
import { SignJWT } from 'jose';
import { RiskstreamError } from '../errors.js';
import type { KeyRing } from './key-ring.js';
import type { SigningAlg } from '../types.js';
import type { SigningKey } from './keys.js';
import type { BuiltSet } from './set-builder.js';

/** Signs `set` with `key`; the header's alg and kid must be the key's. */
export async function signSet(set: BuiltSet, key: SigningKey): Promise<string> {
  if (set.header.alg !== key.alg || set.header.kid !== key.kid) {
    throw new RiskstreamError('KEY_INVALID', `SET header (${set.header.alg}, ${set.header.kid}) does not match signing key (${key.alg}, ${key.kid})`);
  }
  return new SignJWT({ ...set.claims }).setProtectedHeader({ ...set.header }).sign(key.privateKey);
}

/**
 * Builds and signs in one step: `build` gets the key identity ({alg, kid}) of the ring's
 * current key for `alg` and returns the unsigned SET.
 */
export async function buildAndSign(ring: KeyRing, alg: SigningAlg, build: (key: { alg: SigningAlg; kid: string }) => BuiltSet): Promise<string> {
  const key = ring.key(alg);
  return signSet(build({ alg: key.alg, kid: key.kid }), key);
}
