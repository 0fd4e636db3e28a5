import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { FAILURE_LOG_INTERVAL_MS, FailureLog } from '../../src/ssf/failure-log.js';

function capture(): { lines: Array<Record<string, unknown>>; log: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('info', dest) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('FailureLog', () => {
  it('a failing receiver: one warning at once, then one per interval with the count, one line when it recovers', async () => {
    const { lines, log } = capture();
    let now = 1_000_000;
    const f = new FailureLog(log, () => now);
    f.failed('okta', { outcome: 'network', message: 'ECONNREFUSED', retrying: true });
    for (let i = 0; i < 50; i++) {
      now += 1000;
      f.failed('okta', { outcome: 'network', message: 'ECONNREFUSED', retrying: true });
    }
    // Another receiver is its own.
    f.failed('siem', { outcome: 'rejected', status: 400, retrying: false });
    now += FAILURE_LOG_INTERVAL_MS - 50_000;
    f.failed('okta', { outcome: 'timeout', retrying: true });
    now += 5000;
    f.delivered('okta');
    f.delivered('okta');
    f.delivered('never-failed');
    await flush();
    const rows = lines.map((l) => ({ level: l.level, receiver: l.receiver, outcome: l.outcome, failures: l.failures, msg: l.msg }));
    expect(rows).toEqual([
      { level: 40, receiver: 'okta', outcome: 'network', failures: 1, msg: expect.stringMatching(/failing; retrying/) },
      { level: 40, receiver: 'siem', outcome: 'rejected', failures: 1, msg: expect.stringMatching(/given up/) },
      { level: 40, receiver: 'okta', outcome: 'timeout', failures: 51, msg: expect.stringMatching(/failing; retrying/) },
      { level: 30, receiver: 'okta', outcome: undefined, failures: 52, msg: 'SET delivery recovered' },
    ]);
    expect(lines[0]).toMatchObject({ message: 'ECONNREFUSED', failing_for_ms: 0 });
    expect(lines[1]).toMatchObject({ status: 400 });
    expect(lines[3]).toMatchObject({ failing_for_ms: 50_000 + FAILURE_LOG_INTERVAL_MS - 50_000 + 5000 });
  });

  it('a receiver refusing our authorization: one line per interval naming the cause, not one per SET', async () => {
    const { lines, log } = capture();
    let now = 1_000_000;
    const f = new FailureLog(log, () => now);
    for (let i = 0; i < 100; i++) {
      now += 10;
      f.failed('okta', { outcome: 'unauthorized', status: 401, retrying: false });
    }
    now += FAILURE_LOG_INTERVAL_MS;
    f.failed('okta', { outcome: 'unauthorized', status: 403, retrying: false });
    await flush();
    expect(lines.map((l) => ({ receiver: l.receiver, status: l.status, failures: l.failures }))).toEqual([
      { receiver: 'okta', status: 401, failures: 1 },
      { receiver: 'okta', status: 403, failures: 100 },
    ]);
    for (const l of lines) expect(l.outcome).toBe('unauthorized');
  });
});
