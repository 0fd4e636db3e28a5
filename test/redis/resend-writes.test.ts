/**
 * A connection lost after Redis ran a write and before its reply reached riskstream: ioredis
 * resends the command once it reconnects (autoResendUnfulfilledCommands, on by default, as on
 * every riskstream connection), so a write that is not idempotent runs twice. Each write here must
 * leave what one run leaves. Real Redis behind a loopback proxy that cuts the connection at that
 * moment (test/helpers/tcp-proxy.ts).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { StreamNames } from '../../src/config/load.js';
import { requestReset } from '../../src/engine/control.js';
import { replayFile } from '../../src/ingest/replay.js';
import { resetUser } from '../../src/engine/offline-reset.js';
import type { Held } from '../../src/engine/route-write.js';
import { markSent } from '../../src/engine/routed-tops.js';
import { Keys } from '../../src/keys.js';
import { OutboxRelay } from '../../src/risk/outbox-relay.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { revokeSession } from '../../src/sessions/revoke.js';
import { SessionStore } from '../../src/sessions/store.js';
import { SsfStreamStore } from '../../src/ssf/streams.js';
import { claimVerification } from '../../src/ssf/stream-verify.js';
import { holdCapped } from '../../src/ssf/held.js';
import { auditReceivers } from '../../src/ssf/receiver-audit.js';
import { testReceiver } from '../ssf/helpers.js';
import { login, settings } from '../sessions/helpers.js';
import { SCRIPTS_DIR, scriptsOn } from '../../src/redis/scripts.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { proxiedWorkerClient, type TcpProxy } from '../helpers/tcp-proxy.js';

const redis = redisClient();
const prefix = testPrefix('resend-writes');
const keys = new Keys(prefix, 8);
let proxy: TcpProxy;
let worker: Redis;
let through: Awaited<ReturnType<typeof proxiedWorkerClient>>;

beforeAll(async () => {
  // The worker's own connection options (reconnect, queue while reconnecting, resend).
  through = await proxiedWorkerClient('resend-writes');
  ({ proxy, worker } = through);
  // Every script known to Redis: the cut command is the one that runs (not an EVALSHA answered NOSCRIPT).
  for (const f of readdirSync(SCRIPTS_DIR).filter((n) => n.endsWith('.lua'))) await redis.script('LOAD', readFileSync(join(SCRIPTS_DIR, f), 'utf8'));
});
afterAll(async () => {
  await through.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** A client write holding `command` and naming `key`. */
const sends = (command: RegExp, key: string) => (sent: Buffer) => command.test(sent.toString('latin1')) && sent.includes(key);

/** A user at high, with nothing behind it (a reset takes it to low). */
const high = (user: string): UserState => ({ ...emptyState(user), level: 'high', version: 1, changedAt: Date.now(), updatedAt: Date.now() });

it('an admin reset queued for the owner (control stream) is queued once, not again by the resend', async () => {
  const user = 'queued@example.com';
  const cut = proxy.cutAfterRun(sends(/XADD|EVAL/i, keys.controlStream));
  // No worker applies it: the request stays queued (UNAVAILABLE), as when an owner is slow.
  await expect(requestReset(worker, keys, { user, actor: 'cli:ops', reason: 'vouched' }, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  await cut;
  const entries = await redis.xrange(keys.controlStream, '-', '+');
  expect(entries.map(([, f]) => f[f.indexOf('user') + 1])).toEqual([user]);
});

it('an offline reset whose commit reply was lost records one change, one outbox entry of each kind', async () => {
  const user = 'offline@example.com';
  const p = keys.partitionOf(user);
  await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
  const cut = proxy.cutAfterRun(sends(/EVAL/i, keys.partitionPos(p)));
  const r = await resetUser(worker, keys, { user, actor: 'cli:ops', reason: 'false positive' }, { eventsMaxlen: 100 }, async () => undefined);
  await cut;
  expect(r).toMatchObject({ found: true, previous: 'high', level: 'low', version: 2 });
  const kinds = async (stream: string) => (await redis.xrange(stream, '-', '+')).map(([, f]) => f[f.indexOf('kind') + 1]);
  expect(await kinds(keys.userEvents(user))).toEqual(['change']);
  expect(await kinds(keys.userOutbox(user))).toEqual(['change', 'audit']);
});

it('an audit entry whose reply was lost is written once, not again by the resend', async () => {
  const log = new AuditLog(worker, `${prefix}:audit`);
  const cut = proxy.cutAfterRun(sends(/XADD|EVAL/i, `${prefix}:audit`));
  await log.write({ action: 'receiver.disabled', actor: 'config', target: 'okta', details: { removed: true } });
  await cut;
  expect((await redis.xrange(`${prefix}:audit`, '-', '+')).map(([, f]) => f[f.indexOf('target') + 1])).toEqual(['okta']);
});

it('an outbox relay whose writes lost their replies writes each risk event and audit entry once', async () => {
  const user = 'relayed@example.com';
  const p = keys.partitionOf(user);
  const hit = { behavior: 'endpoint_detection', level: 'high', time: Date.now() };
  const audit = { action: 'risk.reset', actor: 'cli:ops', target: user, details: { previous: 'high', level: 'low' } };
  await redis.xadd(keys.userOutbox(user), '*', 'kind', 'hit', 'data', JSON.stringify(hit));
  await redis.xadd(keys.userOutbox(user), '*', 'kind', 'audit', 'data', JSON.stringify(audit));
  await redis.zadd(keys.outboxPending(p), Date.now(), user);
  const relay = new OutboxRelay(worker, keys, `${prefix}:risk-events`, async () => undefined, 100, `${prefix}:audit-relay`);
  const cut = proxy.cutAfterRun(sends(/XADD|EVAL/i, `${prefix}:audit-relay`));
  await relay.relay([user]);
  await cut;
  expect(await redis.xlen(`${prefix}:risk-events`)).toBe(1);
  expect((await redis.xrange(`${prefix}:audit-relay`, '-', '+')).map(([, f]) => f[f.indexOf('action') + 1])).toEqual(['risk.reset']);
  expect(await redis.exists(keys.userOutbox(user))).toBe(0);
});

it("a relay run keeps one marker per stream it writes, not one per risk event (a key per event for minutes would outweigh the users')", async () => {
  const users = ['run-a@example.com', 'run-b@example.com'];
  for (const [i, user] of users.entries()) {
    for (let j = 0; j < 3; j++) {
      const hit = { behavior: 'endpoint_detection', level: 'high', time: Date.now() + j };
      await redis.xadd(keys.userOutbox(user), '*', 'kind', 'hit', 'data', JSON.stringify(hit));
    }
    await redis.xadd(
      keys.userOutbox(user),
      '*',
      'kind',
      'audit',
      'data',
      JSON.stringify({ action: 'risk.reset', actor: 'cli:ops', target: user, details: { i } }),
    );
    await redis.zadd(keys.outboxPending(keys.partitionOf(user)), Date.now(), user);
  }
  const relay = new OutboxRelay(redis, keys, `${prefix}:run-events`, async () => undefined, 100, `${prefix}:run-audit`);
  await relay.relay(users);
  expect(await redis.xlen(`${prefix}:run-events`)).toBe(6);
  expect(await redis.xlen(`${prefix}:run-audit`)).toBe(2);
  for (const stream of [`${prefix}:run-events`, `${prefix}:run-audit`]) expect(await redis.keys(`{${stream}}:seen:relay:*`)).toHaveLength(1);
});

it('a session revoke whose reply was lost is the revocation it made: told once, not NOT_FOUND', async () => {
  const plain = new SessionStore(redis, keys);
  const e = login({ sessionId: 'resent-1', time: Date.now() - 1000 });
  await plain.put([buildIdentity(e, settings())!]);
  const audit = new AuditLog(redis, `${prefix}:audit-revoke`);
  const told: string[] = [];
  const cut = proxy.cutAfterRun(sends(/EVAL/i, keys.sessionTombstone(keys.partitionOf(e.user), 'resent-1')));
  const r = await revokeSession({ store: new SessionStore(worker, keys), audit, onRevoked: (c) => void told.push(c.sessionId) }, 'resent-1', {
    actor: 'admin:x',
    reason: 'stolen',
  });
  await cut;
  expect(r.identity.session_id).toBe('resent-1');
  expect(told).toEqual(['resent-1']);
  expect((await audit.list()).entries.map((x) => x.action)).toEqual(['session.revoked']);
  expect(await plain.get('resent-1')).toBeNull();
  expect(await redis.hlen(keys.revocationNotices(keys.partitionOf(e.user)))).toBe(0);
});

it("an owner's commit whose reply was lost answers the resend with the first run's session outcomes (a refused rebind is still audited)", async () => {
  // Two users of one partition: bob holds session id `bound-1`, then alice's login uses it (refused).
  const bob = 'bob@example.com';
  const p = keys.partitionOf(bob);
  let alice = 'alice@example.com';
  for (let i = 0; keys.partitionOf(alice) !== p; i++) alice = `alice-${i}@example.com`;
  const plain = new SessionStore(redis, keys);
  await plain.put([buildIdentity(login({ user: bob, sessionId: 'bound-1', time: Date.now() - 2000 }), settings())!]);
  const prepared = new SessionStore(worker, keys).prepare([buildIdentity(login({ user: alice, sessionId: 'bound-1', time: Date.now() - 1000 }), settings())!]);
  const cut = proxy.cutAfterRun(sends(/EVAL/i, keys.partitionPos(p)));
  const res = await scriptsOn(worker).engineCommit(2, keys.engineLease(`p${p}`), keys.partitionPos(p), '', packOps(prepared.ops), '', '', 'commit-1');
  await cut;
  if (res === -1) throw new Error('fenced');
  const result = await prepared.finish(res[1], res[2]);
  expect(result.refused).toEqual([{ session_id: 'bound-1', user: alice, owner: bob }]);
});

it('a replay chunk whose reply was lost is appended once: no event counted twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-resend-'));
  try {
    const streams = { login: `${prefix}:replay-login`, activity: `${prefix}:replay-activity` } as StreamNames;
    const dlp = (n: number) => JSON.stringify({ type: 'dlp', user: 'a@example.com', time: 1795420800000 + n, severity: 'high' });
    const login = JSON.stringify({ type: 'login', user: 'a@example.com', time: 1795420800000 });
    writeFileSync(join(dir, 'events.ndjson'), [login, dlp(1), dlp(2)].join('\n'));
    const cut = proxy.cutAfterRun(sends(/XADD|EVAL/i, streams.activity));
    await replayFile(worker, streams, join(dir, 'events.ndjson'));
    await cut;
    expect(await redis.xlen(streams.login)).toBe(1);
    expect((await redis.xrange(streams.activity, '-', '+')).map(([, f]) => f[1])).toEqual([dlp(1), dlp(2)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("an SSF stream created by a call whose reply was lost is created, not refused by the owner's limit it now fills", async () => {
  const streams = new SsfStreamStore(worker, keys);
  const cut = proxy.cutAfterRun(sends(/EVAL/i, keys.ssfStreams));
  const s = await streams.create({ owner: 'token:resend01', endpoint_url: 'https://receiver.example/push' }, 1);
  await cut;
  expect(Object.keys(await redis.hgetall(keys.ssfStreams))).toEqual([s.stream_id]);
});

it("a router step's mark whose reply was lost answers the mark as the step found it, not as it raised it", async () => {
  const stream = `${prefix}:marked`;
  await redis.zadd(keys.routedTop(stream), 1000, 'top');
  try {
    const held: Held[] = [{ key: { ms: 5000, seq: 0 }, ref: { stream, id: '5000-0' } }];
    const cut = proxy.cutAfterRun(sends(/EVAL|ZADD/i, keys.routedTop(stream)));
    const before = await markSent(worker, keys, held);
    await cut;
    expect(before.get(stream)).toBe(1000);
    expect(await redis.zscore(keys.routedTop(stream), 'top')).toBe('5000');
  } finally {
    await redis.del(keys.routedTop(stream));
  }
});

it('an offline reset whose lease take lost its reply commits itself, not queued behind its own lease', async () => {
  const user = 'leased@example.com';
  const p = keys.partitionOf(user);
  await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
  const queued = await redis.xlen(keys.controlStream);
  const cut = proxy.cutAfterRun(sends(/SET/i, keys.engineLease(`p${p}`)));
  const r = await resetUser(worker, keys, { user, actor: 'cli:ops', reason: 'vouched' }, { eventsMaxlen: 100 }, async () => undefined);
  await cut;
  expect(r).toMatchObject({ found: true, previous: 'high', level: 'low' });
  expect(await redis.xlen(keys.controlStream)).toBe(queued); // not queued for an owner
  expect(await redis.exists(keys.engineLease(`p${p}`))).toBe(0);
});

it('a verification claim whose reply was lost is taken, not refused as asked before', async () => {
  const key = `${prefix}:verify-slot`;
  const cut = proxy.cutAfterRun(sends(/SET/i, key));
  await claimVerification(worker, key, 60_000);
  await cut;
  expect(await redis.pttl(key)).toBeGreaterThan(0);
});

it("a paused stream's held list overflowing reports it (its audit entry) when the report's claim lost its reply", async () => {
  const key = `${prefix}:held-full`;
  await redis.rpush(key, 'a', 'b');
  const cut = proxy.cutAfterRun(sends(/SET/i, `${key}:full`));
  const r = await holdCapped(worker, key, ['c'], 2);
  await cut;
  expect(r).toEqual({ count: 1, audit: true });
});

it("a configured receiver's change whose claim (the hash compare-and-set) lost its reply is audited, once: enabled, changed, removed", async () => {
  const log = new AuditLog(redis, `${prefix}:audit-receivers`);
  const deps = { redis: worker, keys, audit: log };
  const actions = async (): Promise<string[]> =>
    (await redis.xrange(log.stream, '-', '+')).map(([, f]) => `${f[f.indexOf('action') + 1]} ${f[f.indexOf('target') + 1]}`);
  const claimLost = async (receivers: ReturnType<typeof testReceiver>[]): Promise<void> => {
    const cut = proxy.cutAfterRun(sends(/EVAL/i, keys.receiversKnown));
    await auditReceivers(deps, receivers);
    await cut;
  };
  await claimLost([testReceiver('okta', 'http://127.0.0.1:1/a')]);
  await claimLost([testReceiver('okta', 'http://127.0.0.1:1/moved')]);
  await claimLost([]);
  expect(await actions()).toEqual(['receiver.enabled okta', 'receiver.changed okta', 'receiver.disabled okta']);
  expect(await redis.hgetall(keys.receiversKnown)).toEqual({});
});
