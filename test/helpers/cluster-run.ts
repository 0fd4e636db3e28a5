/**
 * Black-box runs of worker processes on the local Redis Cluster (test/cluster/admin-surface,
 * three-workers): an admin API GET, and the end of a run — workers stopped, the receiver closed,
 * every key of the prefix purged and counted on each master afterwards.
 */
import type { Cluster } from 'ioredis';
import { purgePrefix } from '../../src/redis/purge.js';
import { keyCountsPerMaster } from './cluster.js';
import type { TestReceiver } from './receiver.js';
import type { TestConfig, WorkerProcess } from './worker.js';

/** GET `path` from a worker with a bearer token: the status and the JSON body (or the text). */
export async function getFrom(w: WorkerProcess, path: string, token: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${w.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

/** What a run started (any part may be missing when its set-up failed). */
export interface ClusterRun {
  prefix: string;
  cluster?: Cluster;
  receiver?: TestReceiver;
  cfg?: TestConfig;
  workers: WorkerProcess[];
}

/**
 * Stops the run's workers (SIGTERM), closes its receiver, purges its prefix on every master and
 * removes its config. Returns how many keys of the prefix the masters still hold (SCAN on each).
 */
export async function endClusterRun(run: ClusterRun): Promise<number> {
  for (const w of run.workers) await w.stop();
  await run.receiver?.close();
  run.cfg?.remove();
  if (!run.cluster) return 0;
  await purgePrefix(run.cluster, run.prefix);
  run.cluster.disconnect();
  return [...(await keyCountsPerMaster(run.prefix)).values()].reduce((a, b) => a + b, 0);
}

/** A critical EDR detection (endpoint_detection: high) of `user` at `time`, with event id `id`. */
export function edrEvent(user: string, id: string, time: number): Record<string, unknown> {
  return { type: 'endpoint', id, user, time, device: { id: 'd' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' };
}

/** A blocked high-severity DLP match (dlp_detection: medium) of `user` at `time`, with event id `id`. */
export function dlpEvent(user: string, id: string, time: number): Record<string, unknown> {
  return { type: 'dlp', id, user, time, profile: 'cc', severity: 'high', action: 'block', app: 'drive' };
}
