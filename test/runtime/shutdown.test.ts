import { describe, expect, it } from 'vitest';
import { runShutdown } from '../../src/runtime/shutdown.js';

const never = (): Promise<void> => new Promise<void>(() => undefined);

describe('runShutdown', () => {
  it('runs every step in order when they finish', async () => {
    const ran: string[] = [];
    const step = (name: string) => ({ name, run: async () => void ran.push(name) });
    const r = await runShutdown([step('a'), step('b'), step('c')], 1000, Date.now());
    expect(r).toEqual({ abandoned: [], timedOut: [], notStarted: [], failed: [], deadlinePassed: false });
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('abandons a step that overruns its own bound and goes on with the next', async () => {
    const ran: string[] = [];
    const r = await runShutdown(
      [
        { name: 'stuck', run: never, maxMs: 20 },
        { name: 'next', run: async () => void ran.push('next') },
      ],
      5000,
      Date.now(),
    );
    expect(r.abandoned).toEqual(['stuck']);
    expect(r).toMatchObject({ timedOut: ['stuck'], notStarted: [] });
    // Its own bound, not the deadline: the error says which.
    expect(r.deadlinePassed).toBe(false);
    expect(ran).toEqual(['next']);
  });

  it('once the deadline has passed, names the hung step and every step not started', async () => {
    const ran: string[] = [];
    const r = await runShutdown(
      [
        { name: 'hung', run: never },
        { name: 'later', run: async () => void ran.push('later') },
      ],
      50,
      Date.now(),
    );
    expect(r.abandoned).toEqual(['hung', 'later']);
    // Which one timed out, and which never ran.
    expect(r.timedOut).toEqual(['hung']);
    expect(r.notStarted).toEqual(['later']);
    expect(r.deadlinePassed).toBe(true);
    expect(ran).toEqual([]);
  });

  it('records a failing step and continues', async () => {
    const r = await runShutdown(
      [
        { name: 'boom', run: () => Promise.reject(new Error('x')) },
        { name: 'ok', run: async () => undefined },
      ],
      1000,
      Date.now(),
    );
    expect(r).toEqual({ abandoned: [], timedOut: [], notStarted: [], failed: [{ step: 'boom', err: 'x' }], deadlinePassed: false });
  });
});
