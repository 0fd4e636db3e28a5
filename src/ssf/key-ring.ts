/**
 * The signing keys in use: one current key per algorithm (ES256, RS256) plus retired public
 * keys still published in the JWKS for a grace period, so SETs signed before a rotation still
 * verify. Only algs and kids show in JSON / inspect output.
 */
import type { JWK } from 'jose';
import type { Config } from '../config/load.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import { configPath } from '../config/load.js';
import { isRiskstreamError, RiskstreamError } from '../errors.js';
import type { SigningAlg } from '../types.js';
import { generateKeyFiles, generateSigningKey, loadSigningKey, type SigningKey } from './keys.js';
import { jwksDocument, loadPublicJwk, type JwksDocument } from './jwks.js';
import { implicitKeySpecs } from './implicit-keys.js';

interface Retired {
  jwk: JWK;
  /** Epoch ms after which it is no longer published; undefined = published until removed. */
  until?: number;
}

/** Options of {@link KeyRing.rotate}. */
export interface RotateOptions {
  /** How long the replaced key stays in the JWKS (ms); default 7 days. */
  graceMs?: number;
  /** Write the new key to `<outDir>/<name>.pem` + `.jwk.json`; in memory only when omitted. */
  outDir?: string;
  name?: string;
  now?: number;
}

/** How long a key no longer configured stays in the JWKS (ms): 7 days. */
export const DEFAULT_GRACE_MS = 7 * 86_400_000;

/** Current signing key per alg + retired public keys; builds the JWKS. */
export class KeyRing {
  readonly #current = new Map<SigningAlg, SigningKey>();
  #retired: Retired[] = [];

  /**
   * Makes `key` the current key for its alg. A key it replaces stays published until
   * `retireUntil` (epoch ms; forever when omitted).
   */
  setCurrent(key: SigningKey, retireUntil?: number): void {
    const old = this.#current.get(key.alg);
    if (old && old.kid !== key.kid) this.addRetired(old.publicJwk, retireUntil);
    this.#current.set(key.alg, key);
  }

  /** Publishes a retired public key (until `until`, epoch ms, or forever). */
  addRetired(jwk: JWK, until?: number): void {
    this.#retired = this.#retired.filter((r) => r.jwk.kid !== jwk.kid);
    this.#retired.push(until === undefined ? { jwk } : { jwk, until });
  }

  /** The current key for `alg`; KEY_NOT_FOUND when none is configured. */
  key(alg: SigningAlg): SigningKey {
    const k = this.#current.get(alg);
    if (!k) throw new RiskstreamError('KEY_NOT_FOUND', `no ${alg} signing key configured (add one under signing.keys)`, { alg });
    return k;
  }

  has(alg: SigningAlg): boolean {
    return this.#current.has(alg);
  }

  /**
   * Generates a new current key for `alg`; the old one stays in the JWKS for `graceMs`.
   * In a multi-worker deployment rotate through config (new key_file + previous_public_keys).
   */
  async rotate(alg: SigningAlg, opts: RotateOptions = {}): Promise<SigningKey> {
    const key = opts.outDir ? (await generateKeyFiles(alg, opts.outDir, opts.name)).key : (await generateSigningKey(alg)).key;
    this.setCurrent(key, (opts.now ?? Date.now()) + (opts.graceMs ?? DEFAULT_GRACE_MS));
    return key;
  }

  /**
   * Goes on publishing what `prev` (the ring a reload replaces) published at `now` and this ring has
   * not: a key `prev` had configured for `graceMs` from `now`, one it published already for a grace
   * period only until that ends (a later reload does not prolong it); never a `withdrawn` kid.
   */
  keepRetiredOf(prev: KeyRing, now: number, withdrawn: ReadonlySet<string>, graceMs: number = DEFAULT_GRACE_MS): void {
    const mine = new Set(this.jwks(now).keys.map((k) => k.kid));
    const ends = new Map(prev.#retired.map((r) => [r.jwk.kid, r.until]));
    for (const k of prev.jwks(now).keys) {
      if (withdrawn.has(k.kid ?? '') || mine.has(k.kid)) continue;
      this.addRetired(k, ends.get(k.kid) ?? now + graceMs);
    }
  }

  /** The public JWKs the configuration names: current keys, then published ones kept with no end (`signing.keys`, `previous_public_keys`). */
  configured(): JWK[] {
    return [...[...this.#current.values()].map((k) => k.publicJwk), ...this.#retired.filter((r) => r.until === undefined).map((r) => r.jwk)];
  }

  /** The JWK Set to publish at `now`: current keys, then retired keys still in their grace period. */
  jwks(now: number = Date.now()): JwksDocument {
    const current = [...this.#current.values()].map((k) => k.publicJwk);
    const retired = this.#retired.filter((r) => r.until === undefined || r.until > now).map((r) => r.jwk);
    return jwksDocument([...current, ...retired]);
  }

  toJSON(): { current: Array<{ alg: SigningAlg; kid: string }>; retired: string[] } {
    return {
      current: [...this.#current.values()].map((k) => ({ alg: k.alg, kid: k.kid })),
      retired: this.#retired.map((r) => r.jwk.kid ?? '?'),
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyRing ${JSON.stringify(this.toJSON())}`;
  }

  /**
   * Loads `signing.key_file`, `signing.keys` (the first key per alg is current, later ones are
   * published only), the implicit keys of receivers' algs no configured key has
   * (src/ssf/implicit-keys.ts) and `signing.previous_public_keys`, relative to the config directory.
   * Throws KEY_NOT_FOUND when an enabled receiver needs an alg with no key; each key error's
   * `details.setting` is the path of the setting that names the key (or the receiver) in riskstream.yaml.
   */
  static async fromConfig(cfg: Pick<Config, 'dir' | 'raw' | 'receivers'>): Promise<KeyRing> {
    const ring = new KeyRing();
    const s = cfg.raw.signing;
    const kids = new KidRegistry();
    for (const spec of [...signingKeySpecs(s), ...implicitKeySpecs(cfg)]) {
      await atSetting(spec.path, async () => {
        const key = await loadSigningKey(configPath(cfg, spec.key_file), spec.alg, spec.kid);
        kids.add(key.publicJwk, spec.label);
        if (ring.has(key.alg)) return ring.addRetired(key.publicJwk);
        const withdrawn = withdrawnSignerProblem(key, s.withdrawn_kids);
        if (withdrawn) throw new RiskstreamError('KEY_INVALID', `${spec.label}: ${withdrawn}`, { kid: key.kid });
        ring.setCurrent(key);
      });
    }
    for (const [i, file] of s.previous_public_keys.entries()) {
      await atSetting(['signing', 'previous_public_keys', i], async () => {
        const jwk = await loadPublicJwk(configPath(cfg, file));
        kids.add(jwk, `signing.previous_public_keys.${i}`);
        ring.addRetired(jwk);
      });
    }
    for (const r of cfg.receivers) {
      const problem = receiverKeyProblem(r, (alg) => ring.has(alg));
      const setting = ['receivers', cfg.raw.receivers.findIndex((x) => x.name === r.name)];
      if (problem) throw new RiskstreamError('KEY_NOT_FOUND', `receiver ${r.name} ${problem}`, { receiver: r.name, alg: r.alg, setting });
    }
    return ring;
  }
}

/**
 * Runs `fn`, a key the setting at `path` (in riskstream.yaml) names being read: a RiskstreamError it
 * throws is thrown again with `details.setting` = `path` (a refused reload locates it in the file).
 */
async function atSetting(path: Array<string | number>, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!isRiskstreamError(err) || err.details?.setting) throw err;
    throw new RiskstreamError(err.code, err.message, { ...err.details, setting: path }); // no cause: its message is this one
  }
}

/** A private key `signing` names, with its path in riskstream.yaml (for config check's positions). */
export interface SigningKeySpec {
  key_file: string;
  alg: SigningAlg;
  kid?: string | undefined;
  path: Array<string | number>;
  /** How errors name the key: its path (`signing.keys.0.key_file`), or the receiver an implicit key is for. */
  label: string;
}

/** The private keys `signing` names, in load order: `key_file`, then `keys` (the first key per alg is current). */
export function signingKeySpecs(s: Config['raw']['signing']): SigningKeySpec[] {
  return [
    { key_file: s.key_file, alg: s.alg, kid: s.kid, path: ['signing', 'key_file'], label: 'signing.key_file' },
    ...s.keys.map((k, i) => ({ ...k, path: ['signing', 'keys', i, 'key_file'], label: `signing.keys.${i}.key_file` })),
  ];
}

/**
 * Why an enabled receiver cannot sign — no key for its alg — or undefined (the worker refuses to
 * start on it). Only when no implicit key can stand in: `signing.key_file` is not a `.pem` path.
 */
export function receiverKeyProblem(r: Pick<ResolvedReceiver, 'enabled' | 'alg'>, has: (alg: SigningAlg) => boolean): string | undefined {
  return r.enabled && !has(r.alg) ? `signs with ${r.alg} but no ${r.alg} key is configured (add it under signing.keys)` : undefined;
}

/**
 * Why a key that signs its alg's SETs (the first configured for it) cannot: its kid is withdrawn,
 * so no receiver could verify them (the worker refuses to start on it); else undefined.
 */
export function withdrawnSignerProblem(key: { kid: string; alg: SigningAlg }, withdrawnKids: readonly string[]): string | undefined {
  return withdrawnKids.includes(key.kid) ? `its kid ${key.kid} is in signing.withdrawn_kids, but it signs ${key.alg} SETs` : undefined;
}

/**
 * The kids of the keys a configuration names: one kid naming two different keys is refused
 * (KEY_INVALID) — the JWKS publishes one key per kid, so the other's SETs could not be verified.
 */
export class KidRegistry {
  readonly #byKid = new Map<string, { jwk: JWK; where: string }>();

  /** Records `jwk` (named at `where`, a config path); throws KEY_INVALID when its kid names another key. */
  add(jwk: JWK, where: string): void {
    const kid = jwk.kid;
    if (kid === undefined) return;
    const seen = this.#byKid.get(kid);
    if (seen && !sameKey(seen.jwk, jwk))
      throw new RiskstreamError('KEY_INVALID', `${where}: kid "${kid}" already names another key (${seen.where}); give each key its own kid`, { kid });
    if (!seen) this.#byKid.set(kid, { jwk, where });
  }
}

/** True when two public JWKs hold the same key material. */
function sameKey(a: JWK, b: JWK): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y && a.n === b.n && a.e === b.e;
}
