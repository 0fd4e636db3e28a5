/**
 * Reloads one at a time (src/runtime/worker-reload.ts): SIGHUPs that come while a reload runs
 * make one more reload, not one each (found by the ops audit: ten SIGHUPs made ten reloads, each
 * restarting SET delivery — with a receiver that hangs, ten waits for its timeout).
 */
import { expect, it } from 'vitest';
import { oneAtATime } from '../../src/runtime/worker-reload.js';

/** A `fn` whose runs end when told, recording their arguments and overlaps. */
function gated() {
  const runs: string[] = [];
  const ends: Array<() => void> = [];
  let active = 0;
  let overlapped = false;
  const fn = (a: string): Promise<void> => {
    runs.push(a);
    if (++active > 1) overlapped = true;
    return new Promise<void>((r) => ends.push(r)).finally(() => active--);
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const endNext = async () => {
    await tick();
    ends.shift()?.();
    await tick();
  };
  return { fn, runs, endNext, overlapped: () => overlapped };
}

it('calls while one runs make a single run after it, which all of them wait for', async () => {
  const g = gated();
  const reload = oneAtATime(g.fn);
  const first = reload('dir');
  await new Promise((r) => setTimeout(r, 0));
  const later = [reload('dir'), reload('dir'), reload('dir'), reload('dir')];
  let settled = 0;
  later.forEach((p) => void p.then(() => settled++));
  await g.endNext();
  await first;
  expect(settled).toBe(0);
  for (let i = 0; i < later.length; i++) await g.endNext();
  await Promise.all(later);
  expect(g.runs).toEqual(['dir', 'dir']);
  expect(g.overlapped()).toBe(false);
});

it('two calls in a row still make two runs, one after the other; a call once the queued run started queues another', async () => {
  const g = gated();
  const reload = oneAtATime(g.fn);
  const a = reload('dir');
  const b = reload('dir');
  await g.endNext();
  await a;
  const c = reload('dir'); // b runs now: c comes after it
  await g.endNext();
  await b;
  await g.endNext();
  await c;
  expect(g.runs).toEqual(['dir', 'dir', 'dir']);
  expect(g.overlapped()).toBe(false);
});

it('a call with another argument is not folded into a waiting one', async () => {
  const g = gated();
  const reload = oneAtATime(g.fn);
  const runs = [reload('a'), reload('b'), reload('c')];
  for (let i = 0; i < 3; i++) await g.endNext();
  await Promise.all(runs);
  expect(g.runs).toEqual(['a', 'b', 'c']);
});

it('a refused run rejects every call it stands for, and the next call runs again', async () => {
  const runs: number[] = [];
  let n = 0;
  const reload = oneAtATime(async () => {
    runs.push(++n);
    await new Promise((r) => setTimeout(r, 5));
    if (n === 2) throw Object.assign(new Error('refused'), { code: 'CONFIG_INVALID' });
  });
  const first = reload(undefined);
  await new Promise((r) => setTimeout(r, 0));
  const joined = [reload(undefined), reload(undefined)];
  await first;
  for (const p of joined) await expect(p).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  await reload(undefined);
  expect(runs).toEqual([1, 2, 3]);
});
