import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { auditSessions, sessionAudit } from '../../pipelines/session-audit.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { CanonicalEvent } from '../../src/types.js';
import { batchOf, login, settings, testRedis } from './helpers.js';
import { startMonitor } from '../helpers/monitor.js';
import { waitFor } from '../helpers/redis.js';

const t = testRedis();
const store = new SessionStore(t.redis, t.keys);

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(() => t.cleanup());

function mixed(): CanonicalEvent[] {
  const now = Date.now();
  return [
    login({ sessionId: 'ok-1' }),
    { ...login({ sessionId: 'failed' }), outcome: 'failure' },
    { ...login(), session: undefined },
    login({ sessionId: 'ok-2', user: 'bob@example.com' }),
    login({ sessionId: 'expired', expiresAt: now - 1000, time: now - 10_000 }),
    { type: 'dlp', user: 'alice@example.com', time: now, profile: 'credit-cards', severity: 'high', action: 'block', session: { id: 'dlp-session' } },
    { type: 'access', user: 'bob@example.com', time: now, outcome: 'success', session: { id: 'access-session' } },
    { ...login({ sessionId: 'refresh-1' }), type: 'session_refresh' },
  ];
}

async function storedIds(): Promise<string[]> {
  return (await store.listAll({ limit: 500 })).sessions.map((s) => s.session_id).sort();
}

describe('session-audit pipeline', () => {
  it('stores only successful logins carrying a live session, in one call per batch', async () => {
    const result = await sessionAudit(store, settings())(batchOf(mixed()));
    expect(result).toMatchObject({ stored: 3, skipped: 1 });
    expect(await storedIds()).toEqual(['ok-1', 'ok-2', 'refresh-1']);
  });

  it("writes the batch in one script call per partition (the commit script the engine uses, on the partition's slot)", async () => {
    const commands: string[] = [];
    const monitor = await startMonitor((args, source) => {
      // Commands run inside the scripts show up with source "lua": not round trips.
      if (source !== 'lua' && args.some((a) => a.includes(t.prefix))) commands.push(args[0]!.toLowerCase());
    });
    const batch = mixed().filter((e) => e.session?.id !== 'expired');
    await sessionAudit(store, settings())(batchOf(batch));
    // MONITOR's feed lags under load: wait for the two calls to show, then a moment for any stray one.
    await waitFor(() => commands.filter((c) => c === 'evalsha' || c === 'eval').length >= 2, { what: 'the script calls monitored' }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    await monitor.stop();
    // Sessions, the partitions' indexes and per-user indexes: inside one script call per partition
    // (alice's and bob's: two), no reads before or after.
    const partitions = new Set(['alice@example.com', 'bob@example.com'].map((u) => t.keys.partitionOf(u)));
    expect(partitions.size).toBe(2);
    expect(commands.filter((c) => c === 'evalsha' || c === 'eval')).toHaveLength(partitions.size);
    expect(commands.filter((c) => !['evalsha', 'eval'].includes(c))).toEqual([]);
  });

  it('reprocessing the same batch gives the same state', async () => {
    const batch = batchOf(mixed());
    const run = sessionAudit(store, settings());
    await run(batch);
    const first = (await store.listAll()).sessions;
    await run(batch);
    expect((await store.listAll()).sessions).toEqual(first);
  });

  it('the RxJS operator stores each batch, then passes it on unchanged and in order', async () => {
    const b1 = batchOf([login({ sessionId: 'rx-1' })]);
    const b2 = batchOf([login({ sessionId: 'rx-2' }), { ...login({ sessionId: 'rx-no' }), outcome: 'failure' }]);
    const out = await lastValueFrom(
      from([b1, b2]).pipe(
        auditSessions(store, () => settings()),
        toArray(),
      ),
    );
    expect(out).toEqual([b1, b2]);
    expect(await storedIds()).toEqual(['rx-1', 'rx-2']);
  });

  it('applies the live redact_claims setting', async () => {
    let redact: string[] = [];
    const run = sessionAudit(store, () => settings({ redact_claims: redact }));
    await run(batchOf([login({ sessionId: 'c1' })]));
    redact = ['email'];
    await run(batchOf([login({ sessionId: 'c2' })]));
    expect((await store.get('c1'))?.claims.email).toBe('alice@example.com');
    expect((await store.get('c2'))?.claims.email).toBe('[redacted]');
  });
});
