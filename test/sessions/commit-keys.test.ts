/**
 * The keys a partition commit declares on a Redis Cluster (src/redis/commit-keys.ts) cover every key
 * its script touches — else, while a slot migrates, Redis would not refuse it up front and it could
 * stop part-way. Watched with MONITOR (the commands the script runs, their keys by COMMAND GETKEYS):
 * every key it touches is declared, but the sessions a trim deletes (the script checks those itself
 * before its first write), for logins, a trim, sign-outs (SEND, SOFF and a sign-out's place in
 * SUSER), risk events, outbox entries, audits, reset outcomes and the idle sweep's index fixes.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitOps, emptyDelta } from '../../src/engine/commit.js';
import { commandKeys, commitArgs } from '../../src/redis/commit-keys.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { emptyState } from '../../src/risk/state.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { Keys } from '../../src/keys.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { testPrefix } from '../helpers/redis.js';

// A redis-server of its own: MONITOR sees this test's commands only (on a shared server another
// client's traffic can race the MONITOR reply).
let server: PrivateRedis;
const t = { prefix: testPrefix('commit-keys'), keys: undefined as unknown as Keys, redis: undefined as unknown as Redis };
t.keys = new Keys(t.prefix, 8);
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const USER = 'alice@example.com';
const P = t.keys.partitionOf(USER);

beforeAll(async () => {
  server = await startPrivateRedis();
  t.redis = server.client;
});
afterAll(async () => {
  await server?.stop();
});

/**
 * Runs one commit with `declared` keys; the keys (under the test's prefix) its script's commands
 * named, and those named by a command other than EXISTS (the script's check before its first write).
 */
async function touched(ops: Buffer, declared: Set<string>): Promise<{ keys: Set<string>; written: Set<string>; reply: unknown }> {
  const mon = await t.redis.monitor();
  const lua: string[][] = [];
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua' && args.some((a) => a.startsWith(t.prefix))) lua.push(args);
  });
  const lease = t.keys.engineLease(`p${P}`);
  const reply = await scriptsOn(t.redis).engineCommit(...commitArgs(lease, t.keys.partitionPos(P), ['', ops, '', ''], declared));
  await new Promise((r) => setTimeout(r, 50)); // the monitor's last lines
  mon.disconnect();
  const keys = new Set<string>();
  const written = new Set<string>();
  for (const args of lua)
    for (const k of (await t.redis.call('COMMAND', 'GETKEYS', ...args)) as string[]) {
      keys.add(k);
      if (args[0]!.toUpperCase() !== 'EXISTS') written.add(k);
    }
  return { keys, written, reply };
}

function ident(id: string, over: Partial<SessionIdentity> = {}): SessionIdentity {
  return { session_id: id, user: USER, claims: {}, login_at: NOW - 30 * MIN, expires_at: NOW + 60 * MIN, ...over };
}

describe('the keys a commit declares on a cluster cover what its script touches', () => {
  const store = (): SessionStore => new SessionStore(t.redis, t.keys, { now: () => NOW, maxPerUser: 2 });

  it('logins, a trim, sign-outs (SEND, SOFF, a sign-out in SUSER)', async () => {
    const first = store().prepare([ident('a', { expires_at: NOW + 10 * MIN }), ident('b', { expires_at: NOW + 20 * MIN })]);
    const one = await touched(packOps(first.ops), commandKeys(first.ops, new Set()));
    expect([...one.keys].filter((k) => !commandKeys(first.ops, new Set()).has(k) && k !== t.keys.partitionPos(P) && k !== t.keys.engineLease(`p${P}`))).toEqual(
      [],
    );
    // A login over max (a trimmed), b signed out, d logged in and signed out in this same commit.
    const ids = [
      ident('c', { login_at: NOW - 20 * MIN, expires_at: NOW + 30 * MIN }),
      ident('b', { expires_at: NOW - MIN, signed_out_at: NOW - MIN }),
      ident('d', { login_at: NOW - 10 * MIN, expires_at: NOW + 40 * MIN }),
      ident('d', { login_at: NOW - 10 * MIN, expires_at: NOW - 5 * MIN, signed_out_at: NOW - 5 * MIN }),
    ];
    const second = store().prepare(ids);
    expect(second.ops.map((op) => op[0])).toEqual(expect.arrayContaining(['SEND', 'SOFF', 'SUSER']));
    const declared = commandKeys(second.ops, new Set());
    const before = new Set(await t.redis.zrange(t.keys.userSessions(USER), 0, -1));
    const two = await touched(packOps(second.ops), new Set(declared));
    const trimmed = (two.reply as [number, unknown[], string[][]])[2].flat();
    expect(trimmed).toEqual(['a']); // a derived key, checked by the script
    // Undeclared: only the script's own check (EXISTS, of the set's stored sessions) and the trimmed
    // session it then reads and deletes — not b, which the sign-out (SEND) writes over.
    const derived = (k: string): boolean => trimmed.some((id) => k === t.keys.session(P, id));
    const own = (k: string): boolean => declared.has(k) || k === t.keys.partitionPos(P) || k === t.keys.engineLease(`p${P}`);
    expect([...two.written].filter((k) => !own(k) && !derived(k))).toEqual([]);
    expect([...two.keys].filter((k) => !own(k) && ![...before].some((id) => k === t.keys.session(P, id)))).toEqual([]);
    expect(two.written).toContain(t.keys.session(P, 'b'));
    expect(two.keys.size).toBeGreaterThan(5);
  });

  it('states, risk events, outbox, audits, reset outcomes', async () => {
    const d = emptyDelta(P, { ms: 0, seq: 0 });
    d.states.set(USER, { ...emptyState(USER), level: 'high', version: 1, changedAt: NOW, updatedAt: NOW });
    d.events.push({ user: USER, kind: 'hit', data: { behavior: 'x', level: 'high', time: NOW, summary: 's', evidence: {}, eventIds: ['e'] } });
    d.audits.push({ action: 'risk.reset', actor: 'admin:ops', target: USER, time: NOW, details: {} });
    d.results.push({ req: 'r-1', user: 'nobody', outcome: { found: false } });
    d.late = [{ user: USER, data: { session_id: 's', login_at: NOW } as never }];
    const declared = new Set<string>();
    const { ops } = commitOps(t.keys, d, { eventsMaxlen: 10, now: NOW }, () => undefined, [], declared);
    const { keys } = await touched(ops, new Set(declared));
    expect([...keys].filter((k) => !declared.has(k) && k !== t.keys.partitionPos(P) && k !== t.keys.engineLease(`p${P}`))).toEqual([]);
    expect(keys.size).toBeGreaterThanOrEqual(6);
  });

  it("the idle sweep's fixes of the idle index alone (no state in the commit)", async () => {
    const d = emptyDelta(P, { ms: 0, seq: 0 });
    d.idleFix = new Map<string, number | null>([
      ['later@example.com', NOW],
      ['kept@example.com', null],
    ]);
    const declared = new Set<string>();
    const { ops } = commitOps(t.keys, d, { eventsMaxlen: 10, now: NOW }, () => undefined, [], declared);
    const { keys } = await touched(ops, new Set(declared));
    expect([...keys].filter((k) => !declared.has(k) && k !== t.keys.partitionPos(P) && k !== t.keys.engineLease(`p${P}`))).toEqual([]);
    expect(keys).toContain(t.keys.usersIdle(P));
  });
});
