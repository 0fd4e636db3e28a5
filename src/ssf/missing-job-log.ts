import type { Logger } from '../obs/logger.js';

/** A job BullMQ found gone: its id and the command that found it (`moveToFinished`, `moveToDelayed`, …). */
export interface MissingJob {
  jobId: string;
  command: string;
}

/**
 * BullMQ's "Missing key for job <id>. <command>": the job's hash is gone from Redis — Redis lost
 * its data (restarted without persistence, failed over to a replica behind it, flushed) while the
 * job ran. Undefined for any other error.
 */
export function missingJob(err: Error): MissingJob | undefined {
  const m = /^Missing key for job (.+)\. (\w+)$/.exec(err.message);
  return m ? { jobId: m[1]!, command: m[2]! } : undefined;
}

/**
 * Reports missing jobs as warnings without a stack (they are no bug of riskstream's, and a data loss
 * with many SETs in flight gives one per job): one line per command at most every `everyMs`,
 * naming the job it saw and how many such jobs the line stands for.
 */
export class MissingJobLog {
  private readonly kinds = new Map<string, { at: number; count: number }>();

  constructor(
    private readonly logger: Logger | undefined,
    private readonly everyMs: number,
  ) {}

  /** Counts `m`; logs it when its command has not been logged within `everyMs` of `now`. */
  note(m: MissingJob, now: number): void {
    const kind = this.kinds.get(m.command) ?? { at: -Infinity, count: 0 };
    kind.count++;
    this.kinds.set(m.command, kind);
    if (now - kind.at < this.everyMs) return;
    this.logger?.warn(
      { message: `Missing key for job ${m.jobId}. ${m.command}`, job_id: m.jobId, command: m.command, jobs: kind.count },
      "set-delivery: a job's keys are gone from Redis (its data was lost: a restart without persistence, a failover to a replica behind, a flush); BullMQ cannot record the job's outcome, and the job is dropped",
    );
    kind.at = now;
    kind.count = 0;
  }
}
