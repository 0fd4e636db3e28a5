import { existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config } from '../config/load.js';
import { configPath } from '../config/load.js';
import type { Logger } from '../obs/logger.js';
import { isRiskstreamError, RiskstreamError } from '../errors.js';
import type { SigningAlg } from '../types.js';
import { generateKeyFiles } from './keys.js';
import { implicitKeySpecs } from './implicit-keys.js';

/** What the key files are read from: the configuration directory, `signing` and the receivers. */
type KeyConfig = Pick<Config, 'dir' | 'raw' | 'receivers'>;

/**
 * Generates the key file `file` (a `.pem` path; 0600, its public JWK beside it) when it does not
 * exist; several workers at once settle on one file (exclusive create). Logs file, alg and kid.
 */
async function ensureKeyFile(file: string, alg: SigningAlg, logger: Logger, what: string): Promise<void> {
  if (existsSync(file)) return void (await written(file)); // perhaps another worker's, still being written
  if (!file.endsWith('.pem')) return; // a JWK file: the operator's to provide
  try {
    const g = await generateKeyFiles(alg, dirname(file), basename(file, '.pem'));
    logger.warn({ file, alg: g.alg, kid: g.kid }, `${what}: generated one (publish /.well-known/jwks.json to receivers)`);
  } catch (err) {
    // Another worker won the race: its key files are there or being written (the public JWK first).
    // Any other failure (a directory not writable) leaves neither: thrown at once.
    const raced = existsSync(file) || existsSync(file.replace(/\.pem$/, '.jwk.json'));
    if (!isRiskstreamError(err) || !raced || !(await written(file))) throw err;
  }
}

/** How long a worker waits for a key file another worker is writing (ms). */
const WRITTEN_WAIT_MS = 5000;

/**
 * True once `file` holds something, waited for up to {@link WRITTEN_WAIT_MS}: a worker that lost the
 * race to create it (or found it created, empty) reads the winner's key, not an empty or absent file.
 */
async function written(file: string): Promise<boolean> {
  for (let waited = 0; ; waited += 50) {
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0) return true;
    if (waited >= WRITTEN_WAIT_MS) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * First start without a key: generates `signing.key_file` (0600; its public JWK beside it) so a
 * fresh install works; several workers starting at once settle on one file (exclusive create).
 * The implicit keys too ({@link ensureImplicitKeys}).
 */
export async function ensureSigningKey(cfg: KeyConfig, logger: Logger): Promise<void> {
  await ensureKeyFile(configPath(cfg, cfg.raw.signing.key_file), cfg.raw.signing.alg, logger, 'no signing key found');
  await ensureImplicitKeys(cfg, logger);
}

/**
 * Generates the missing implicit keys (src/ssf/implicit-keys.ts: an enabled receiver's alg that no
 * configured key has) beside `signing.key_file`, at a worker's start and at a reload. An error's
 * `details.setting` is the receiver that needs the key (a refused reload locates it in the file).
 */
export async function ensureImplicitKeys(cfg: KeyConfig, logger: Logger): Promise<void> {
  for (const spec of implicitKeySpecs(cfg)) {
    await ensureKeyFile(configPath(cfg, spec.key_file), spec.alg, logger, `no ${spec.alg} signing key found for receivers signing ${spec.alg}`).catch(
      (err: unknown) => {
        if (!isRiskstreamError(err)) throw err;
        throw new RiskstreamError(err.code, err.message, { ...err.details, setting: spec.path });
      },
    );
  }
}
