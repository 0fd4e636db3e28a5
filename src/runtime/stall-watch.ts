/**
 * The worker's watch on the pipeline as a whole: every few seconds it samples, from Redis, the
 * input streams' consumer group and every partition's stream top and committed position, judges
 * them with a {@link StallTracker}, sets the stall gauges and logs a stall's start and end.
 * `/readyz` reads its last verdict. Every worker samples the same shared state, so every worker
 * answers for the whole pipeline — whether or not it routes or owns what is stalled.
 */
import { Subscription } from 'rxjs';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { RedisClient } from '../redis/client.js';
import { sendTogether } from '../redis/send-together.js';
import { readGroups } from '../redis/stream-info.js';
import { compareIds } from '../risk/state.js';
import { NOT_STALLED, StallTracker, stallText, type EngineSample, type StallVerdict } from '../engine/stall-tracker.js';

/** What the watch reads and reports to. */
export interface StallWatchDeps {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  metrics: Metrics;
  logger: Logger;
}

/** The running watch: its last verdict, and how to stop it. */
export interface StallWatch {
  verdict(): StallVerdict;
  /** Takes one sample now (tests; the timer takes the others). */
  sample(): Promise<void>;
  subscription: Subscription;
}

/** How often to sample, for a stall time (a quarter of it, within 250 ms … 5 s). */
export function sampleEveryMs(stallAfter: number): number {
  return Math.min(5_000, Math.max(250, Math.floor(stallAfter / 4)));
}

/** Reads one sample of the input group and the partitions (throws when Redis does not answer). */
export async function readEngineSample(redis: RedisClient, keys: Keys, streams: readonly string[], group: string): Promise<EngineSample> {
  const groups = await readGroups(redis, streams);
  const inputs = streams.map((stream, i) => {
    const g = groups[i]?.find((x) => x.name === group);
    // No group (not created yet, or deleted): nothing the router could read is judged here.
    return g ? { stream, lag: g.lag ?? 0, pending: g.pending, mark: `${g.lastDeliveredId}|${g.pending}` } : { stream, lag: 0, pending: 0, mark: 'no-group' };
  });
  const parts = keys.partitionList;
  const replies = await sendTogether(redis, (r) =>
    parts.flatMap((p) => [r.xrevrange(keys.partitionIn(p), '+', '-', 'COUNT', 1), r.hget(keys.partitionPos(p), 'pos')]),
  );
  const partitions = parts.map((partition, i) => {
    const [topErr, top] = replies[2 * i]!;
    const [posErr, pos] = replies[2 * i + 1]!;
    if (topErr) throw topErr;
    if (posErr) throw posErr;
    const last = (top as Array<[string, string[]]>)[0]?.[0];
    const at = typeof pos === 'string' ? pos : '0-0';
    return { partition, waiting: last !== undefined && compareIds(last, at) > 0, mark: at };
  });
  return { inputs, partitions };
}

/** Starts sampling (first sample at once); stop it with `subscription.unsubscribe()`. */
export function startStallWatch(d: StallWatchDeps): StallWatch {
  const tracker = new StallTracker();
  const raw = d.config().raw;
  const takeover = raw.engine.lease_ttl + 2 * raw.engine.heartbeat;
  if (raw.ingest.stall_after <= Math.max(takeover, raw.engine.commit_interval)) {
    d.logger.warn(
      { stall_after: raw.ingest.stall_after, lease_ttl: raw.engine.lease_ttl, heartbeat: raw.engine.heartbeat, commit_interval: raw.engine.commit_interval },
      'ingest.stall_after is not above engine.lease_ttl + 2 × heartbeat (or commit_interval): a takeover may show as a stall on /readyz',
    );
  }
  let verdict: StallVerdict = NOT_STALLED;
  let running: Promise<void> | undefined;
  let stopped = false;
  const take = async (): Promise<void> => {
    const config = d.config();
    const stallAfter = config.raw.ingest.stall_after;
    const sample = await readEngineSample(d.redis, d.keys, config.streams.inputs, config.streams.group);
    const next = tracker.observe(sample, Date.now(), stallAfter);
    report(d, verdict, next);
    verdict = next;
  };
  const sample = (): Promise<void> =>
    (running ??= take()
      .catch((err: unknown) => d.logger.debug({ err }, 'pipeline stall sample failed (Redis away?): the last verdict stays'))
      .finally(() => (running = undefined)));
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void sample().finally(schedule), sampleEveryMs(d.config().raw.ingest.stall_after));
    timer.unref();
  };
  void sample().finally(schedule);
  return {
    verdict: () => verdict,
    sample,
    subscription: new Subscription(() => {
      stopped = true;
      clearTimeout(timer);
    }),
  };
}

/** Sets the gauges to `next`; counts and logs a stage's stall starting, logs its end. */
function report(d: StallWatchDeps, prev: StallVerdict, next: StallVerdict): void {
  const { metrics, logger } = d;
  const stages = [
    ['router', prev.router, next.router],
    ['partitions', prev.partitions, next.partitions],
  ] as const;
  for (const [stage, was, is] of stages) {
    metrics.pipelineStalled.set({ stage }, is ? 1 : 0);
    metrics.pipelineStalledSeconds.set({ stage }, is ? Math.round(is.forMs / 1000) : 0);
    if (is && !was) {
      metrics.pipelineStalls.inc({ stage });
      logger.error({ stage, ...is }, `pipeline stalled: ${stallText({ ...NOT_STALLED, [stage]: is }) ?? stage}`);
    } else if (!is && was) logger.info({ stage }, 'pipeline stall over: progress again');
  }
  metrics.stalledPartitions.set(next.partitions?.partitions.length ?? 0);
}
