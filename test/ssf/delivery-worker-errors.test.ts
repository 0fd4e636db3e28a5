/** Which BullMQ worker errors are a Redis failover or reconnect (logged as a warning: the worker resumes) and which are not. */
import { describe, expect, it } from 'vitest';
import { isLockLost, isTransientRedisError } from '../../src/ssf/delivery-worker.js';

describe('isTransientRedisError', () => {
  it.each([
    ['UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)', true],
    ['MOVED 8124 127.0.0.1:7001', true],
    ['CLUSTERDOWN The cluster is down', true],
    ['TRYAGAIN Multiple keys request during rehashing of slot', true],
    ["READONLY You can't write against a read only replica.", true],
    ['Connection is closed.', true],
    ['connect ECONNREFUSED 127.0.0.1:7000', true],
    // ioredis's cluster client while a killed master's replica is promoted (CI: failover test, kill -9).
    ['None of startup nodes is available', true],
    ['Failed to refresh slots cache.', true],
    ['connect ETIMEDOUT', true],
    ['Missing lock for job 42. moveToFinished', false],
    ['ERR Error running script (call to f_1234): @user_script:1: WRONGTYPE', false],
  ])('%s → %s', (message, transient) => {
    expect(isTransientRedisError(new Error(message))).toBe(transient);
  });
});

describe('isLockLost', () => {
  it.each([
    ['could not renew lock for job 42', true],
    ['could not renew lock for job set:u-1:7', true],
    ['Missing lock for job 42. moveToFinished', false],
    ['Connection is closed.', false],
  ])('%s → %s', (message, lost) => {
    expect(isLockLost(new Error(message))).toBe(lost);
  });
});
