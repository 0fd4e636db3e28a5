import { describe, expect, it } from 'vitest';
import { missingJob, MissingJobLog } from '../../src/ssf/missing-job-log.js';
import type { Logger } from '../../src/obs/logger.js';

describe('missingJob', () => {
  it.each([
    ['Missing key for job rlc-held-8391cce4-v1. moveToFinished', { jobId: 'rlc-held-8391cce4-v1', command: 'moveToFinished' }],
    ['Missing key for job set:u.1:7. moveToDelayed', { jobId: 'set:u.1:7', command: 'moveToDelayed' }],
    ['Missing lock for job 42. moveToFinished', undefined],
    ['Missing key for parent job p. addJob', undefined],
    ['Connection is closed.', undefined],
  ])('%s', (message, expected) => {
    expect(missingJob(new Error(message))).toEqual(expected);
  });
});

describe('MissingJobLog', () => {
  it('one warning per command per period, naming a job and counting those it stands for; never an error', () => {
    const warned: Array<Record<string, unknown>> = [];
    const logger = { warn: (o: Record<string, unknown>) => warned.push(o), error: () => expect.unreachable() } as unknown as Logger;
    const log = new MissingJobLog(logger, 1000);
    log.note({ jobId: 'a', command: 'moveToFinished' }, 0);
    log.note({ jobId: 'b', command: 'moveToFinished' }, 10);
    log.note({ jobId: 'c', command: 'moveToFinished' }, 20);
    log.note({ jobId: 'a', command: 'moveToDelayed' }, 30);
    log.note({ jobId: 'd', command: 'moveToFinished' }, 1000);
    expect(warned).toEqual([
      { message: 'Missing key for job a. moveToFinished', job_id: 'a', command: 'moveToFinished', jobs: 1 },
      { message: 'Missing key for job a. moveToDelayed', job_id: 'a', command: 'moveToDelayed', jobs: 1 },
      { message: 'Missing key for job d. moveToFinished', job_id: 'd', command: 'moveToFinished', jobs: 3 },
    ]);
  });
});
