import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config } from '../config/load.js';
import { configPath } from '../config/load.js';
import type { Logger } from '../obs/logger.js';
import { isRiskstreamError } from '../errors.js';
import { generateKeyFiles } from './keys.js';

/**
 * First start without a key: generates `signing.key_file` (0600; its public JWK beside it) so a
 * fresh install works; several workers starting at once settle on one file (exclusive create).
 */
export async function ensureSigningKey(cfg: Config, logger: Logger): Promise<void> {
  const file = configPath(cfg, cfg.raw.signing.key_file);
  if (existsSync(file)) return;
  if (!file.endsWith('.pem')) return; // a JWK file: the operator's to provide
  try {
    const g = await generateKeyFiles(cfg.raw.signing.alg, dirname(file), basename(file, '.pem'));
    logger.warn({ file, alg: g.alg, kid: g.kid }, 'no signing key found: generated one (publish /.well-known/jwks.json to receivers)');
  } catch (err) {
    if (!isRiskstreamError(err) || !existsSync(file)) throw err; // another worker won the race
  }
}
