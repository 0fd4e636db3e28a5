/**
 * The public keys this deployment has published, kept in Redis: every worker records the keys its
 * configuration names (with the time it last did) and publishes, beside its own, those another
 * worker or an earlier run named within the grace period. So a key rotated out stays in every
 * worker's JWKS for the grace period — across restarts, and under the kid it signed with (a
 * configured `signing.kid`, which its `.jwk.json` file does not carry) — and workers behind one
 * load balancer serve the same JWKS. Public keys only.
 */
import type { JWK } from 'jose';
import type { RedisClient } from '../redis/client.js';
import { jwksDocument, type JwksDocument } from './jwks.js';
import { DEFAULT_GRACE_MS, type KeyRing } from './key-ring.js';

interface Recorded {
  jwk: JWK;
  /** Epoch ms when a configuration last named it. */
  last: number;
}

/** The deployment's published keys (one Redis hash), cached between refreshes. */
export class PublishedKeys {
  #known: Recorded[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly graceMs: number = DEFAULT_GRACE_MS,
  ) {}

  /**
   * Records the keys `ring`'s configuration names as named at `now`, forgets those past the grace
   * period, and reads the rest (one round trip each way). Called at start, on reload and periodically.
   */
  async refresh(ring: KeyRing, now: number = Date.now(), withdrawn: ReadonlySet<string> = new Set()): Promise<void> {
    const named = ring.configured().filter((k) => typeof k.kid === 'string' && !withdrawn.has(k.kid));
    if (named.length) await this.redis.hset(this.key, ...named.flatMap((jwk) => [jwk.kid!, JSON.stringify({ jwk, last: now } satisfies Recorded)]));
    const { known, stale } = this.sort(await this.redis.hgetall(this.key), now, withdrawn);
    if (stale.length) await this.redis.hdel(this.key, ...stale);
    this.#known = known;
  }

  #reading: Promise<void> | undefined;
  #following: Promise<void> | undefined;

  /**
   * Reads the published keys again (nothing written), for a JWKS request: a key another worker put
   * in force since this one's last refresh (a rolling reload: it signs with it already) is served
   * by this worker too. One read at a time: a call during one shares the next, which starts after
   * it, so what it gets was read after the call.
   */
  reread(now: () => number = Date.now): Promise<void> {
    if (this.#reading) {
      return (this.#following ??= this.#reading
        .catch(() => undefined)
        .then(() => {
          this.#following = undefined;
          return this.reread(now);
        }));
    }
    const run: Promise<void> = this.redis
      .hgetall(this.key)
      .then((all) => void (this.#known = this.sort(all, now()).known))
      .finally(() => {
        if (this.#reading === run) this.#reading = undefined;
      });
    this.#reading = run;
    return run;
  }

  /** The records of `all` still in their grace period at `now` (`known`), and the kids past it or withdrawn (`stale`). */
  private sort(all: Record<string, string>, now: number, withdrawn: ReadonlySet<string> = new Set()): { known: Recorded[]; stale: string[] } {
    const known: Recorded[] = [];
    const stale: string[] = [];
    for (const [kid, raw] of Object.entries(all)) {
      const r = parse(raw);
      if (!r || r.jwk.kid !== kid) continue;
      if (r.last + this.graceMs <= now || withdrawn.has(kid)) stale.push(kid);
      else known.push(r);
    }
    return { known, stale };
  }

  /**
   * Why `ring` cannot be published: one of its kids already names another key that is still
   * published (within its grace period). Served together, the newer record would replace the
   * older, and SETs signed with the older key would no longer verify. Undefined when none (reads
   * the deployment's record afresh).
   */
  async clash(ring: KeyRing, now: number = Date.now(), withdrawn: ReadonlySet<string> = new Set()): Promise<string | undefined> {
    const all = await this.redis.hgetall(this.key);
    for (const jwk of ring.configured()) {
      if (typeof jwk.kid !== 'string' || withdrawn.has(jwk.kid)) continue;
      const r = all[jwk.kid] === undefined ? undefined : parse(all[jwk.kid]!);
      if (!r || r.last + this.graceMs <= now || sameKey(r.jwk, jwk)) continue;
      return `kid ${jwk.kid} already names another published key (until its grace period ends): give the new key a kid of its own (or leave signing.kid out: the thumbprint is used)`;
    }
    return undefined;
  }

  /** The JWK Set to serve at `now`: `ring`'s keys, then the recorded ones still in their grace period; never a `withdrawn` kid. */
  jwks(ring: KeyRing, now: number = Date.now(), withdrawn: ReadonlySet<string> = new Set()): JwksDocument {
    const extra = this.#known.filter((r) => r.last + this.graceMs > now).map((r) => r.jwk);
    return jwksDocument([...ring.jwks(now).keys, ...extra].filter((k) => !withdrawn.has(k.kid ?? '')));
  }
}

function parse(raw: string): Recorded | undefined {
  try {
    const r = JSON.parse(raw) as Recorded;
    return typeof r === 'object' && r !== null && typeof r.last === 'number' && typeof r.jwk === 'object' && r.jwk !== null ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Whether two public JWKs hold the same key (their kids aside). */
function sameKey(a: JWK, b: JWK): boolean {
  return (['kty', 'crv', 'x', 'y', 'n', 'e'] as const).every((f) => a[f] === b[f]);
}
