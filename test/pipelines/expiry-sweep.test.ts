import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { expirySweep } from '../../pipelines/expiry-sweep.js';
import { RiskstreamError } from '../../src/errors.js';

const scheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('expiry sweep (marbles)', () => {
  it('a sweep slower than the interval skips the ticks that come meanwhile (exhaustMap), never queues them', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const started: number[] = [];
      const sweep$ = expirySweep(
        {
          everyMs: 10,
          sweep: (now) => {
            started.push(now);
            return cold('24ms (r|)', { r: now });
          },
        },
        ts,
      );
      // Ticks at 10, 20, 30 … ; a sweep takes 24 ms: started at 10, 40, 70 (20, 30, 50, 60, 80, 90 skipped).
      expectObservable(sweep$, '^ 99ms !').toBe('34ms a 29ms b 29ms c', { a: 10, b: 40, c: 70 });
      ts.flush();
      expect(started).toEqual([10, 40, 70]);
    });
  });

  it('a failed sweep is reported and the timer goes on', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const errors: unknown[] = [];
      let n = 0;
      const sweep$ = expirySweep(
        {
          everyMs: 10,
          sweep: (now) => (n++ === 0 ? cold('2ms #', undefined, new RiskstreamError('INTERNAL', 'redis away')) : cold('2ms (r|)', { r: now })),
          onError: (err) => errors.push(err),
        },
        ts,
      );
      expectObservable(sweep$, '^ 39ms !').toBe('22ms a 9ms b', { a: 20, b: 30 });
      ts.flush();
      expect(errors.map((e) => (e as RiskstreamError).code)).toEqual(['INTERNAL']);
    });
  });
});
