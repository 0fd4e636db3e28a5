/**
 * The stream fence (real Redis, a random prefix): a stream change answers only once the pushes
 * recorded before it ended, and a push recorded after a change finds it and is not sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { beginStreamSend, fencedPush, waitBound, waitStreamSends } from '../../src/ssf/stream-fence.js';
import { SsfStreamStore, streamDeliveryReceiver } from '../../src/ssf/streams.js';
import type { ReceiverRegistry } from '../../src/ssf/receivers.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
defineScripts(redis);
const prefix = testPrefix('stream-fence');
const keys = new Keys(prefix, 4);
const store = new SsfStreamStore(redis, keys);

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** A registry over the store, read afresh at each refresh (as a worker's stream cache). */
function registry(): ReceiverRegistry & { refresh(): Promise<void>; receiver(id: string): ResolvedReceiver } {
  const byName = new Map<string, ResolvedReceiver>();
  const reg = {
    get: (name: string) => byName.get(name),
    refresh: async () => {
      byName.clear();
      for (const s of await store.list()) {
        const r = streamDeliveryReceiver(s, 'ES256', 1000, false);
        byName.set(r.name, r);
      }
    },
    receiver: (id: string) => [...byName.values()].find((r) => r.streamId === id)!,
  };
  return reg;
}

/** A fenced push to `receiver` that starts and then waits for `finish()`; resolves once it started. */
async function heldPush(steps: string[], reg: ReceiverRegistry, receiver: ResolvedReceiver): Promise<{ pushing: Promise<unknown>; finish: () => void }> {
  let finish = (): void => undefined;
  const pushing = fencedPush(
    (r) => beginStreamSend(redis, keys, reg, r),
    receiver,
    () =>
      new Promise<string>((resolve) => {
        steps.push('push started');
        finish = () => {
          steps.push('push ended');
          resolve('delivered');
        };
      }),
  );
  while (!steps.length) await new Promise((r) => setTimeout(r, 5));
  return { pushing, finish: () => finish() };
}

describe('stream fence', () => {
  it('a disable waits for the push recorded before it, and answers once that push ended', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const reg = registry();
    await reg.refresh();
    const steps: string[] = [];
    const { pushing, finish } = await heldPush(steps, reg, reg.receiver(s.stream_id));
    const disabling = store.update(s.stream_id, (cur) => ({ ...cur, status: 'disabled' })).then(() => steps.push('disable answered'));
    await new Promise((r) => setTimeout(r, 100));
    finish();
    await Promise.all([pushing, disabling]);
    expect(steps).toEqual(['push started', 'push ended', 'disable answered']);
  });

  it('a push whose timeout is longer than the wait floor is still waited for (the entry names its life, which a shorter push does not cut)', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const reg = registry();
    await reg.refresh();
    const steps: string[] = [];
    // A stream with a long push timeout (ssf.timeout above the floor); the floor here 50 ms instead of 60 s.
    const slow = { ...reg.receiver(s.stream_id), timeout: 120_000 };
    const { pushing, finish } = await heldPush(steps, { get: () => slow, refresh: async () => undefined }, slow);
    const ttl = await redis.pttl(keys.ssfInflight(s.stream_id));
    expect(ttl).toBeGreaterThan(120_000);
    // A later push with a shorter timeout (ssf.timeout lowered by a reload, a worker not yet
    // reloaded), which records and ends its own entry, must not cut the slow entry's life.
    expect(
      await fencedPush(
        (r) => beginStreamSend(redis, keys, reg, r),
        reg.receiver(s.stream_id),
        async () => 'sent',
      ),
    ).toBe('sent');
    expect(await redis.pttl(keys.ssfInflight(s.stream_id))).toBeGreaterThan(115_000);
    const waiting = waitStreamSends(redis, keys, s.stream_id, 50).then(() => steps.push('wait over'));
    await new Promise((r) => setTimeout(r, 300));
    finish();
    await Promise.all([pushing, waiting]);
    expect(steps).toEqual(['push started', 'push ended', 'wait over']);
    expect(waitBound(['120000:x', 'junk', '7:y'], 60_000)).toBe(120_000);
    expect(waitBound(['1000:x'], 60_000)).toBe(60_000);
  });

  it('a push decided before a change (a subject removed) and recorded after it is not sent: changed', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const reg = registry();
    await reg.refresh();
    const decided = reg.receiver(s.stream_id);
    await store.update(s.stream_id, (cur) => ({ ...cur, removed_subjects: ['user:a@example.com'] }));
    let pushed = false;
    const out = await fencedPush(
      (r) => beginStreamSend(redis, keys, reg, r),
      decided,
      async () => (pushed = true),
    );
    expect([out, pushed]).toEqual(['changed', false]);
    expect(await redis.zcard(keys.ssfInflight(s.stream_id))).toBe(0);
  });

  it('a deleted stream: changed; a configured receiver (not self-registered) is pushed without the fence', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const reg = registry();
    await reg.refresh();
    const decided = reg.receiver(s.stream_id);
    await store.delete(s.stream_id);
    expect(
      await fencedPush(
        (r) => beginStreamSend(redis, keys, reg, r),
        decided,
        async () => 'sent',
      ),
    ).toBe('changed');
    const configured = { ...decided, selfRegistered: undefined, streamId: undefined } as unknown as ResolvedReceiver;
    expect(
      await fencedPush(
        () => Promise.reject(new Error('not fenced')),
        configured,
        async () => 'sent',
      ),
    ).toBe('sent');
  });

  it('an entry that cannot be ended (Redis gone after the push) leaves the push outcome as it was', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const reg = registry();
    await reg.refresh();
    const out = await fencedPush(
      async () => () => Promise.reject(new Error('Connection is closed.')),
      reg.receiver(s.stream_id),
      async () => 'delivered',
    );
    expect(out).toBe('delivered');
  });
});
