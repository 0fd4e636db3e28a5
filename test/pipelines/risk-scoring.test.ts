import { asyncScheduler, lastValueFrom, toArray, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { riskScoring, type BatchReport, type RiskScoringParts } from '../../pipelines/risk-scoring.js';
import { RiskstreamError } from '../../src/errors.js';
import { StreamSource } from '../../src/ingest/stream-source.js';
import { deliveryCounts } from '../../src/ingest/poison.js';
import type { OutboxRelay } from '../../src/risk/outbox-relay.js';
import type { Scorer, ScoreReport } from '../../src/risk/scorer.js';
import type { StreamEvent } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/** Runs every timer at once and records the delays asked for (the back-off), so the test does not wait. */
class RecordingScheduler implements SchedulerLike {
  readonly delays: number[] = [];
  now(): number {
    return asyncScheduler.now();
  }
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    if (delay > 0) this.delays.push(delay);
    return asyncScheduler.schedule(work, 0, state);
  }
}

const EMPTY_REPORT: ScoreReport = { users: 0, applied: 0, skipped: 0, hits: [], changes: [], conflicts: 0, outboxUsers: [] };
const prefix = testPrefix('risk-pipeline');
let redis: Redis;
let reader: Redis;

beforeAll(() => {
  redis = redisClient();
  reader = redisClient();
});
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  reader.disconnect();
});

/** A source over a fresh stream holding `n` entries, and the parts around a scorer. */
async function setup(name: string, n: number, score: (events: StreamEvent[]) => Promise<ScoreReport>, stopping: () => boolean) {
  const stream = `${prefix}:${name}`;
  const group = 'g';
  const source = new StreamSource(reader, { streams: [stream], group, consumer: 'c1', count: 10, blockMs: 20, claimIdleMs: 60_000 });
  await source.ensureGroups();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await redis.xadd(stream, '*', 'user', `u${i}`)) as string);
  const scheduler = new RecordingScheduler();
  const errors: string[] = [];
  const parts: RiskScoringParts = {
    source,
    decode: (raw) => ({ ok: true, event: { type: 'login', user: raw.fields.user ?? '?', time: 1 } }),
    deadLetter: async () => undefined,
    alsoCommit: [],
    scorer: { score: (events: StreamEvent[]) => score(events) } as unknown as Scorer,
    relay: { relay: async () => [] } as unknown as OutboxRelay,
    stopping,
    onError: (err) => errors.push((err as RiskstreamError).code),
    scheduler,
  };
  const pending = async (): Promise<number> => ((await redis.xpending(stream, group)) as [number])[0];
  return { stream, ids, parts, scheduler, errors, pending };
}

describe('risk-scoring pipeline: failure path (real Redis)', () => {
  it('while scoring fails nothing is acked; the batch is re-read from pending after a growing back-off, then acked', async () => {
    let calls = 0;
    const seen: Array<{ ids: string[]; deliveries: number[]; pending: number }> = [];
    let stop = false;
    const s = await setup(
      'fails-then-ok',
      3,
      async (events) => {
        seen.push({ ids: events.map((e) => e.ref.id), deliveries: events.map((e) => e.deliveries), pending: await s.pending() });
        if (++calls <= 3) throw new RiskstreamError('INTERNAL', 'scoring failed');
        stop = true; // the batch in flight finishes, then the pipeline completes
        return EMPTY_REPORT;
      },
      () => stop,
    );
    const reports: BatchReport[] = await lastValueFrom(riskScoring(s.parts).pipe(toArray()));

    expect(seen).toHaveLength(4);
    for (const [i, attempt] of seen.entries()) {
      expect(attempt.ids).toEqual(s.ids); // the same entries, re-read from this consumer's pending list
      expect(attempt.pending).toBe(3); // nothing acked while scoring fails
      for (const d of attempt.deliveries) expect(d > 1).toBe(i > 0); // first read new, then re-deliveries
    }
    expect(s.errors).toEqual(['INTERNAL', 'INTERNAL', 'INTERNAL']);
    expect(s.scheduler.delays).toEqual([100, 200, 400]); // back-off by retry's own count of consecutive failures
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ read: 3, acked: 3, held: 0 });
    expect(await s.pending()).toBe(0);
  });

  it('stopping while scoring fails: the pipeline completes, nothing acked, the batch stays pending', async () => {
    let calls = 0;
    const s = await setup(
      'fails-stop',
      2,
      async () => {
        calls++;
        throw new RiskstreamError('COMMIT_CONFLICT', 'scoring failed');
      },
      () => calls >= 2,
    );
    const reports = await lastValueFrom(riskScoring(s.parts).pipe(toArray()));
    expect(reports).toEqual([]);
    expect(calls).toBe(2);
    expect(s.errors).toEqual(['COMMIT_CONFLICT', 'COMMIT_CONFLICT']);
    expect(s.scheduler.delays).toEqual([100]); // no back-off timer once stopping: it completes instead
    expect(await s.pending()).toBe(2);
  });

  it('a fully acked batch starts a fresh failure count', async () => {
    let calls = 0;
    let stop = false;
    const s = await setup(
      'count-resets',
      1,
      async () => {
        calls++;
        if (calls === 1 || calls === 2 || calls === 4) throw new RiskstreamError('INTERNAL', 'scoring failed');
        if (calls === 5) stop = true;
        return EMPTY_REPORT;
      },
      () => stop,
    );
    // 1 fails, 2 fails, 3 ok (acked; the next reads are empty batches, still scored), 4 fails, 5 ok → stop.
    await lastValueFrom(riskScoring(s.parts).pipe(toArray()));
    expect(s.scheduler.delays).toEqual([100, 200, 100]);
  });

  it('with the poison guard: the others are acked, the failing entry is held, re-read after the same back-off, then dead-lettered', async () => {
    let stop = false;
    const poisoned: Array<{ id: string; code: string; deliveries: number }> = [];
    const deadLettered: string[] = [];
    const s = await setup(
      'guarded',
      3,
      async (events) => {
        if (events.some((e) => e.event.user === 'u1')) throw new RiskstreamError('INTERNAL', 'scoring failed');
        return EMPTY_REPORT;
      },
      () => stop,
    );
    s.parts.guard = {
      deliveries: (refs) => deliveryCounts(reader, 'g', refs),
      maxDeliveries: () => 3,
      onPoison: (ref, code, deliveries) => {
        poisoned.push({ id: ref.id, code, deliveries });
        stop = true;
      },
    };
    s.parts.deadLetter = async (bad) => void deadLettered.push(...bad.map((b) => b.raw.id));
    const reports = await lastValueFrom(riskScoring(s.parts).pipe(toArray()));
    expect(reports.map((r) => [r.read, r.acked, r.held])).toEqual([
      [3, 2, 1],
      [1, 0, 1],
      [1, 1, 0],
    ]);
    expect(s.scheduler.delays).toEqual([100, 200]); // held entries wait like a failed batch, counted together
    expect(poisoned).toEqual([{ id: s.ids[1], code: 'INTERNAL', deliveries: 3 }]);
    expect(deadLettered).toEqual([s.ids[1]]);
    expect(await s.pending()).toBe(0);
  });
});
