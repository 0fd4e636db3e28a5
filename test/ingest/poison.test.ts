import { describe, expect, it } from 'vitest';
import { commitIsolated, errorCode, isHeld, poisonReason } from '../../src/ingest/poison.js';
import { RiskstreamError } from '../../src/errors.js';
import type { EntryRef, RawEntry, StreamEvent } from '../../src/types.js';

const ev = (id: string, user: string): StreamEvent => ({ ref: { stream: 'in', id }, event: { type: 'login', user, time: 1 }, deliveries: 1 });
const raw = (ref: EntryRef): RawEntry => ({ stream: ref.stream, id: ref.id, fields: { event: '{}' }, deliveries: 2 });

/** The guard's bookkeeping (the Redis side is covered end to end in test/e2e/input-bounds.test.ts). */
describe('commitIsolated', () => {
  const events = [ev('1-0', 'alice'), ev('2-0', 'mallory'), ev('3-0', 'bob'), ev('4-0', 'mallory'), ev('5-0', 'alice')];
  const failing = (err: unknown) => async (batch: StreamEvent[]) => {
    if (batch.some((e) => e.event.user === 'mallory')) throw err;
    return batch.map((e) => e.ref.id);
  };

  it('below max deliveries: the failing entry and its user’s later ones stay pending; the others commit in order', async () => {
    const dead: unknown[] = [];
    const r = await commitIsolated(events, {
      commit: failing(new RiskstreamError('INTERNAL', 'boom')),
      deliveries: async () => new Map([['in\u00002-0', 2]]),
      deadLetter: async (items) => void dead.push(...items),
      rawOf: raw,
      maxDeliveries: 5,
    });
    expect(r.reports.flat()).toEqual(['1-0', '3-0', '5-0']);
    expect(isHeld(r.held, events[1]!.ref) && isHeld(r.held, events[3]!.ref)).toBe(true);
    expect(r.held.size).toBe(2);
    expect(r.poisoned).toEqual([]);
    expect(dead).toEqual([]);
  });

  it('at max deliveries: dead-lettered with the error code and the real delivery count, reported', async () => {
    const dead: Array<{ raw: RawEntry; reason: string }> = [];
    const told: unknown[] = [];
    const err = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' });
    const r = await commitIsolated(events, {
      commit: failing(err),
      deliveries: async () => new Map([['in\u00002-0', 5]]),
      deadLetter: async (items) => void dead.push(...items),
      rawOf: raw,
      maxDeliveries: 5,
      onPoison: (ref, code, n) => told.push([ref.id, code, n]),
    });
    expect(r.poisoned).toEqual([{ stream: 'in', id: '2-0' }]);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toBe('processing_failed: REDIS_REPLY (after 5 deliveries)');
    expect(dead[0]!.raw.deliveries).toBe(5);
    expect(told).toEqual([['2-0', 'REDIS_REPLY', 5]]);
    // Mallory's later event still waits for the next read (her order is kept).
    expect([...r.held]).toEqual(['in\u00004-0']);
  });

  it('error codes never carry the message', () => {
    expect(errorCode(new RiskstreamError('COMMIT_CONFLICT', 'secret-ish text'))).toBe('COMMIT_CONFLICT');
    expect(errorCode(new Error('password=hunter2'))).toBe('INTERNAL');
    expect(poisonReason(new Error('password=hunter2'), 7)).not.toContain('hunter2');
  });
});
