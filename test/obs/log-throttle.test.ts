import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../src/obs/log-throttle.js';

describe('LogThrottle', () => {
  it('one failure logged once per interval, with how many repeats were held back; another failure on its own', () => {
    let now = 0;
    const t = new LogThrottle(60_000, () => now);
    expect(t.take('WRONGTYPE')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 299; i++) {
      now += 200;
      expect(t.take('WRONGTYPE')).toBeUndefined();
    }
    expect(t.take('other')).toEqual({ suppressed: 0 });
    now = 60_000;
    expect(t.take('WRONGTYPE')).toEqual({ suppressed: 299 });
    expect(t.take('WRONGTYPE')).toBeUndefined();
  });
});
