/**
 * A stable engine worker identity. Explicit (option, env RISKSTREAM_WORKER_ID or
 * RISKSTREAM_CONSUMER), or claimed: the lowest free `<host>-<n>`, whose key holds the claiming
 * pid with a PX ttl. A key naming a pid that is dead on this host is taken over at once, so a
 * restarted worker gets back its identity (and, through the lease script, its partitions); a live
 * pid (even a stopped one) keeps it. Claims are compare-and-set in Lua: two processes starting
 * at once never get the same id. Host names must be unique per machine (else set ids explicitly).
 */
import { hostname } from 'node:os';
import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import { Keys } from '../keys.js';
import { scriptsOn } from '../redis/scripts.js';

export interface WorkerIdOptions {
  /** An explicit id (wins over the environment and the claim). */
  explicit?: string;
  /** Default `os.hostname()`. */
  host?: string;
  /** Default `process.pid`. */
  pid?: number;
  /** PX of a claimed id's key; {@link WorkerIdentity.renew} refreshes it (call it with the heartbeat). */
  ttlMs: number;
  /** Whether a pid runs on this host (default {@link pidAlive}). */
  isAlive?(pid: number): boolean;
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** A worker identity; `renew`/`release` do nothing for an explicit one. */
export interface WorkerIdentity {
  id: string;
  /** Gives the claimed id up (on `via`, default the connection it was claimed on). */
  release(via?: RedisClient): Promise<void>;
  /** Refreshes the claim's PX (re-claims it when it expired and is free); throws WORKER_ID_LOST when another process holds it. */
  renew(): Promise<void>;
}

/** How many `<host>-<n>` are tried before giving up. */
const MAX_IDS = 1024;

/** Identity keys claimed by this process (a key holding our own pid but not listed here is a dead previous process with the same pid). */
const claimedHere = new Set<string>();

/** True when `pid` runs on this host (`kill(pid, 0)` throws ESRCH only for a missing process). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A stable worker identity: explicit (option / env RISKSTREAM_WORKER_ID / RISKSTREAM_CONSUMER) or claimed. */
export async function claimWorkerId(redis: RedisClient, prefix: string, opts: WorkerIdOptions): Promise<WorkerIdentity> {
  const env = opts.env ?? process.env;
  const explicit = opts.explicit || env.RISKSTREAM_WORKER_ID || env.RISKSTREAM_CONSUMER;
  if (explicit) return { id: checked(explicit), release: async () => undefined, renew: async () => undefined };

  const host = (opts.host ?? hostname()).replace(/[^A-Za-z0-9._-]/g, '_') || 'worker';
  const pid = String(opts.pid ?? process.pid);
  const isAlive = opts.isAlive ?? pidAlive;
  const scripts = scriptsOn(redis);
  const keys = new Keys(prefix);
  for (let n = 0; n < MAX_IDS; n++) {
    const id = `${host}-${n}`;
    const key = keys.engineWorkerId(id);
    const [first, holder] = await scripts.workerIdClaim(key, '', pid, opts.ttlMs);
    let ok = first;
    // Held: take it over (compare-and-set on the holder we saw) when that pid is dead on this host.
    const stale = holder === pid ? !claimedHere.has(key) : !isAlive(Number(holder));
    if (ok !== 1 && stale) [ok] = await scripts.workerIdClaim(key, holder, pid, opts.ttlMs);
    if (ok === 1) {
      claimedHere.add(key);
      return claimed(redis, id, key, pid, opts.ttlMs);
    }
  }
  throw new RiskstreamError('UNAVAILABLE', `engine: no free worker id for host ${host} (${MAX_IDS} tried)`);
}

function claimed(redis: RedisClient, id: string, key: string, pid: string, ttlMs: number): WorkerIdentity {
  const scripts = scriptsOn(redis);
  return {
    id,
    async renew() {
      if ((await scripts.leaseRenew(key, pid, ttlMs)) === 1) return;
      const [ok, holder] = await scripts.workerIdClaim(key, '', pid, ttlMs);
      // Ours already: another renew of this process claimed it back (renews queued while Redis was away).
      if (ok !== 1 && holder !== pid) {
        claimedHere.delete(key);
        throw new RiskstreamError('WORKER_ID_LOST', `engine: worker id ${id} was claimed by another process`, { id, holder });
      }
    },
    async release(via?: RedisClient) {
      claimedHere.delete(key);
      await (via ? scriptsOn(via) : scripts).leaseRelease(key, pid);
    },
  };
}

/** An explicit id as given, when usable in keys and tokens. */
function checked(id: string): string {
  if (id.length > 200 || /[\s\p{Cc}]/u.test(id)) {
    throw new RiskstreamError('CONFIG_INVALID', 'engine: a worker id is at most 200 characters, without spaces or control characters');
  }
  return id;
}
