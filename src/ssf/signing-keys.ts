/**
 * The signing keys in force in a process and their publication: the key ring read from the
 * configuration, checked against the keys the workers publish in Redis (a kid that names another key
 * still published is refused), and — in a worker — published at start and every minute, so keys
 * rotated out stay in every worker's JWKS for their grace period, across restarts too.
 */
import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import { KeyRing } from './key-ring.js';
import { PublishedKeys } from './published-keys.js';
import { ensureSigningKey } from './signing-key-file.js';
import { isRiskstreamError, RiskstreamError } from '../errors.js';

/** How often a worker records its configured keys and reads the others' (ms). */
const PUBLISHED_REFRESH_MS = 60_000;

/** Options of {@link openSigningKeys}. */
export interface SigningKeysDeps {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /**
   * A worker's keys (default true): a missing key file is generated, and the keys are published.
   * False for one-shot CLI commands: they sign nothing, so they read the keys when there (an empty
   * ring when not), write no key file and publish nothing.
   */
  publishes?: boolean;
}

/** The key ring in force and its publication. */
export interface SigningKeys {
  /** The key ring in force. */
  ring(): KeyRing;
  /** Refuses (KEY_INVALID) a ring whose kid names another key still published (checked before a reload is applied). */
  check(ring: KeyRing): Promise<void>;
  /** Puts `next` in force, keeping the keys the current ring retired for their grace period, and publishes it. */
  replace(next: KeyRing): Promise<void>;
  /** The JWKS: the ring's public keys and the others still published, the withdrawn kids left out. */
  jwks(): { keys: unknown[] };
  /**
   * Reads the published keys again (another worker's key put in force since the last periodic
   * refresh), for {@link jwks}; rejects when Redis does not answer (the last read is kept).
   */
  reread(): Promise<void>;
  /** Stops the periodic publication. */
  stop(): void;
}

/** The configured keys, or an empty ring when a key file is not there yet (a CLI command before the first worker start). */
async function keysIfAny(config: Config): Promise<KeyRing> {
  try {
    return await KeyRing.fromConfig(config);
  } catch (err) {
    if (isRiskstreamError(err, 'KEY_NOT_FOUND')) return new KeyRing();
    throw err;
  }
}

/** Reads the configured keys, refuses a clash with those published (KEY_INVALID), and (a worker) publishes them from now on. */
export async function openSigningKeys(deps: SigningKeysDeps): Promise<SigningKeys> {
  const publishes = deps.publishes !== false;
  // Workers only generate a missing signing key: a one-shot CLI command signs nothing (its SETs wait
  // in the queue for a worker), so it neither writes a key into the config directory nor needs one.
  if (publishes) await ensureSigningKey(deps.config(), deps.logger);
  let keyRing = publishes ? await KeyRing.fromConfig(deps.config()) : await keysIfAny(deps.config());
  // Keys rotated out stay in the JWKS for their grace period across restarts and on every worker.
  const published = new PublishedKeys(deps.redis, deps.keys.jwksPublished);
  const withdrawn = (): Set<string> => new Set(deps.config().raw.signing.withdrawn_kids);
  // A key under a kid that names another key still published would replace it in the JWKS: refused.
  const check = async (ring: KeyRing): Promise<void> => {
    const problem = publishes ? await published.clash(ring, Date.now(), withdrawn()) : undefined;
    if (problem) throw new RiskstreamError('KEY_INVALID', problem);
  };
  await check(keyRing);
  // Workers only: one-shot CLI commands sign nothing, and must not publish a key they generated.
  const publish = async (): Promise<void> => {
    if (publishes)
      await published
        .refresh(keyRing, Date.now(), withdrawn())
        .catch((err: unknown) => deps.logger.warn({ err }, 'published signing keys not refreshed; retrying'));
  };
  await publish();
  const republish = setInterval(() => void publish(), PUBLISHED_REFRESH_MS);
  republish.unref();
  return {
    ring: () => keyRing,
    check,
    replace: async (next) => {
      next.keepRetiredOf(keyRing, Date.now(), withdrawn());
      keyRing = next;
      await publish();
    },
    jwks: () => published.jwks(keyRing, Date.now(), withdrawn()) as { keys: unknown[] },
    reread: () => published.reread(),
    stop: () => clearInterval(republish),
  };
}
