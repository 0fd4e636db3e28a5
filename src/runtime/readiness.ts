import { isCluster, type RedisClient } from '../redis/client.js';
import type { Readiness } from '../api/context.js';
import type { Config } from '../config/load.js';
import { stuckReason } from '../ingest/backlog.js';
import { stallText, type StallVerdict } from '../engine/stall-tracker.js';
import { authRefusal, authRefusalCode, authRefusalText } from './redis-auth-refusal.js';

/** Why the worker does not read its input: a stable code (`codes.consumer_group`) and words (`reasons.consumer_group`). */
export interface GroupDown {
  code: 'draining' | 'stopped';
  reason: string;
}

/**
 * The consumer-group check from the worker's state: draining once it stops, `stopped` once its engine
 * halted (the reason it gives), else reading.
 */
export function groupState(stopping: boolean, halted: string | undefined): true | GroupDown {
  if (stopping) return { code: 'draining', reason: 'draining: the worker is shutting down' };
  return halted === undefined ? true : { code: 'stopped', reason: halted };
}

/** What `/readyz` looks at. */
export interface ReadinessDeps {
  redis: RedisClient;
  config: () => Config;
  /** True while the worker reads its input; else why not (draining, or stopped: the engine halted). */
  consumerGroup: () => true | GroupDown;
  /**
   * The pipeline-wide stall verdict (src/runtime/stall-watch.ts): read from Redis, so it says the
   * same on every worker, whether or not this one routes or owns what is stalled.
   */
  stall: () => StallVerdict;
  /**
   * Why the configuration in force is not the one the files last gave (a reload refused), for
   * `checks.config` and `reasons.config`; undefined when it is. Informational: it never makes
   * `/readyz` 503 — the worker serves on its running configuration (a mistake reloaded on every
   * worker must not take them all out of their load balancer).
   */
  configProblem?: () => string | undefined;
  /** How long `/readyz` waits for Redis's PONG (default {@link PING_TIMEOUT_MS}). */
  pingTimeoutMs?: number;
}

/** `/readyz` answers 503 when Redis has not answered PING within this (commands queue while it is away). */
export const PING_TIMEOUT_MS = 1000;

/**
 * Why Redis is not ready (undefined: it answered PONG in time). Never throws, never waits past `timeoutMs`.
 * On a Redis Cluster every master is PINGed (a PING without a key goes to one random master, so a
 * stalled master would be seen one time in three): the first master that does not answer is the reason.
 */
export async function pingProblem(redis: RedisClient, timeoutMs: number): Promise<string | undefined> {
  // A connection that is not ready queues the PING until it is back: do not wait for that.
  const status = (redis as { status?: string }).status;
  if (status !== undefined && status !== 'ready' && status !== 'connect') {
    // Reconnects refused for their credentials (the password changed): the cause, not the symptom.
    const refused = authRefusal(redis);
    return refused === undefined ? `not connected (${status})` : `not connected (${status}): ${refused}`;
  }
  if (!isCluster(redis)) return pongWithin(redis, timeoutMs);
  const masters = redis.nodes('master');
  if (masters.length === 0) return 'no master connected';
  // A master's connection is opened at its first command ('wait'): the PING opens it, within the timeout.
  const problems = await Promise.all(
    masters.map(async (node) => {
      const why = await pongWithin(node, timeoutMs);
      return why === undefined ? undefined : `master ${node.options.host ?? '?'}:${node.options.port ?? '?'}: ${why}`;
    }),
  );
  return problems.find((p) => p !== undefined);
}

/** One PING on one connection (a node's or a single Redis'), bounded by `timeoutMs`. */
function pongWithin(redis: RedisClient, timeoutMs: number): Promise<string | undefined> {
  return within(
    redis.ping().then(
      (r) => (r === 'PONG' ? undefined : `PING answered ${String(r).slice(0, 40)}`),
      (err: unknown) => {
        const refused = err instanceof Error ? authRefusalCode(err.message) : undefined;
        if (refused !== undefined) return `PING failed: ${authRefusalText(refused)}`;
        return `PING failed: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`;
      },
    ),
    timeoutMs,
    `no PONG within ${timeoutMs} ms`,
  );
}

/**
 * `/readyz`: Redis answers PING, the consumer group is joined, and the risk pipeline is not
 * stalled — no input entry read again and again (src/ingest/backlog.ts), and no stage with input
 * waiting and no progress for `ingest.stall_after` (src/engine/stall-tracker.ts). Failed checks
 * carry a machine-readable code in `codes` (`redis_unavailable`, `input_stuck`, `input_unreadable`,
 * `router_stalled`, `partitions_stalled`, `draining`, `stopped`) beside their human `reasons`.
 * `config` (the last reload applied) is reported but does not decide readiness.
 */
export function readinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  return async () => {
    const config = deps.config();
    const group = deps.consumerGroup();
    const configProblem = deps.configProblem?.();
    const checks: Record<string, boolean> = { redis: false, consumer_group: group === true, config: configProblem === undefined, pipeline: true };
    const reasons: Record<string, string> = {};
    const codes: Record<string, string> = {};
    let detail: Readiness['stalled'];
    if (group !== true) {
      reasons.consumer_group = group.reason;
      codes.consumer_group = group.code;
    }
    if (configProblem !== undefined) reasons.config = configProblem;
    const redisDown = await pingProblem(deps.redis, deps.pingTimeoutMs ?? PING_TIMEOUT_MS);
    checks.redis = redisDown === undefined;
    if (redisDown !== undefined) reasons.redis = redisDown;
    // An entry read again and again (a step fails on it each time) stops the pipeline while steps still run.
    // Bounded like the PING: on a cluster, the input streams' node may be failing over while PING
    // (another node) answers, and the client holds their commands until the failover ends.
    const timeoutMs = deps.pingTimeoutMs ?? PING_TIMEOUT_MS;
    const unreadable = `input streams not readable within ${timeoutMs} ms (their Redis node away or failing over)`;
    const stuck = checks.redis ? await within(stuckReason(deps.redis, config.streams.inputs, config.streams.group), timeoutMs, unreadable) : null;
    const stall = deps.stall();
    const stalled = stallText(stall);
    if (stuck) {
      checks.pipeline = false;
      reasons.pipeline = stuck;
      codes.pipeline = stuck === unreadable ? 'input_unreadable' : 'input_stuck';
    } else if (checks.redis && stalled) {
      checks.pipeline = false;
      reasons.pipeline = stalled;
      codes.pipeline = stall.router ? 'router_stalled' : 'partitions_stalled';
      detail = stalledDetail(stall);
    }
    if (!checks.redis) codes.redis = 'redis_unavailable';
    const ok = Object.entries(checks).every(([name, passed]) => passed || name === 'config');
    return {
      ok,
      checks,
      ...(Object.keys(reasons).length ? { reasons } : {}),
      ...(Object.keys(codes).length ? { codes } : {}),
      ...(detail ? { stalled: detail } : {}),
    };
  };
}

/** The `stalled` part of a 503's body: what is stalled, for scripts (seconds, not ms). */
function stalledDetail(v: StallVerdict): Readiness['stalled'] {
  return {
    ...(v.router ? { router: { streams: v.router.streams, lag: v.router.lag, pending: v.router.pending, seconds: Math.round(v.router.forMs / 1000) } } : {}),
    ...(v.partitions ? { partitions: { partitions: v.partitions.partitions, seconds: Math.round(v.partitions.forMs / 1000) } } : {}),
  };
}

/** `p`'s value, or `late` when it has not settled within `ms` (the timer never outlives the wait). */
export async function within<T, L>(p: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
