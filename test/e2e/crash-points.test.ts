/**
 * Kill -9 at chosen points (black box: real worker processes, a real Redis behind a loopback proxy
 * that holds every reply once the chosen command has run, so the kill lands right after it; a
 * local receiver, behind a proxy that can hold its answer; the admin API, the input, dead-letter
 * and audit streams read back): after a restart nothing is lost or doubled — session revocations,
 * resets, HTTP ingest with the shipper's resend, the list bridge, SET pushes and their audit entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const RISK_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const AUD = 'https://rx.test';

const prefix = testPrefix('e2e-crash-points');
const redis = redisClient();
let receiver: TestReceiver;
let cfg: TestConfig;
const workers: WorkerProcess[] = [];
const proxies: TcpProxy[] = [];

/** While set, the receiver's proxy holds everything from the next SET on (the receiver has that one; its answer is held), and calls it. */
let holdNextPush: (() => void) | undefined;
let rxProxy: TcpProxy;

beforeAll(async () => {
  receiver = await startReceiver({ audience: AUD, issuer: 'https://riskstream.test' });
  const hold = (chunk: Buffer): boolean => {
    const text = chunk.toString('latin1');
    if (!holdNextPush || !(text.startsWith('eyJ') || text.includes('\r\n\r\neyJ'))) return false; // a SET's body (a JWS)
    holdNextPush();
    holdNextPush = undefined;
    return true;
  };
  rxProxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(receiver.url).port) }, { stallAfter: hold });
  proxies.push(rxProxy);
  const endpoint = `http://127.0.0.1:${rxProxy.port}/rx`;
  cfg = await writeTestConfig(prefix, {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint, audience: AUD, subject_format: 'email' }],
    bridge: { lists: { [`${prefix}:bridge:vector`]: `${prefix}:activity` }, batch: 50, interval: '200ms' },
  });
});

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  for (const p of proxies) await p.close();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const target = new URL(REDIS_URL);

/** A worker whose Redis connections go through a proxy that holds every reply once a client sent a chunk `match`ing; resolves `held` then. */
async function workerHeldAfter(match: (chunk: string) => boolean): Promise<{ worker: WorkerProcess; held: Promise<void> }> {
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  const proxy = await startTcpProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    {
      stallAfter: (chunk) => {
        if (!match(chunk.toString('latin1'))) return false;
        onHeld();
        return true;
      },
    },
  );
  proxies.push(proxy);
  const worker = await spawnWorker(cfg.dir, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  workers.push(worker);
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
  return { worker, held };
}

/** SET delivery jobs completed so far (BullMQ's completed set): a job the killed worker left is completed by the next. */
const completedJobs = () => redis.zcard(`{${prefix}}:bull:set-delivery:completed`);

async function directWorker(): Promise<WorkerProcess> {
  const worker = await spawnWorker(cfg.dir);
  workers.push(worker);
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
  return worker;
}

async function admin(w: WorkerProcess, method: string, path: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${w.url}${path}`, { method, headers: { authorization: `Bearer ${cfg.adminToken}` } });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

/** The risk-level-change SETs the receiver got for `user`. */
const levelSets = (user: string) => receiver.received.filter((s) => eventOf(s).type === RISK_CHANGE && (s.claims.sub_id as { email?: string }).email === user);

/** Every audit entry of `action` about `target`, read through the admin API. */
async function auditOf(w: WorkerProcess, action: string, target: string): Promise<Array<{ target?: string; details: Record<string, unknown> }>> {
  const out: Array<{ target?: string; details: Record<string, unknown> }> = [];
  let cursor: string | undefined;
  do {
    const r = await admin(w, 'GET', `/v1/audit?action=${action}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    out.push(...(r.json.entries as typeof out).filter((e) => e.target === target));
    cursor = r.json.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

describe('kill -9 right after a chosen Redis command', () => {
  it('DELETE /v1/sessions/{id}, killed right after its session.revoked entry: after the restart one entry, one SET', async () => {
    const user = 'carol@example.com';
    const sid = 's-crash-audit-1';
    const { worker: w1, held } = await workerHeldAfter((c) => c.includes('session.revoked') && c.includes(sid));
    await redis.xadd(`${prefix}:login`, '*', 'event', sessionLogin(user, sid));
    await waitFor(async () => (await admin(w1, 'GET', `/v1/sessions/${sid}`)).status === 200, { what: 'session stored', timeout: 20_000 });
    const answer = admin(w1, 'DELETE', `/v1/sessions/${sid}`).catch(() => null); // never answered: killed first
    await held;
    expect(await w1.stop('SIGKILL')).toBeNull();
    expect(await answer).toBeNull();

    // The next worker tells the revocation its revoker did not finish telling.
    const w2 = await directWorker();
    const sets = () => receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED);
    await waitFor(() => sets().length > 0, { what: 'session-revoked SET', timeout: 45_000, interval: 200 });
    await waitFor(async () => (await auditOf(w2, 'set.delivered', user)).length > 0, { what: 'set.delivered entry', timeout: 10_000 });
    expect(sets()).toHaveLength(1);
    expect((await admin(w2, 'GET', `/v1/sessions/${sid}`)).status).toBe(404);
    const revoked = await auditOf(w2, 'session.revoked', sid);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.details.user).toBe(user);
    await w2.stop();
  }, 90_000);

  // Killed right after the reset's control entry was appended (before any owner applied it), or right after the commit that applied it.
  it.each([
    ['its control entry', 1, (c: string, user: string) => /\r\nxadd\r\n/i.test(c) && c.includes(`${prefix}:control`) && c.includes(user)],
    ['the commit that applied it', 2, (c: string, user: string) => /\r\neval(sha)?\r\n/i.test(c) && c.includes('risk.reset') && c.includes(user)],
  ])(
    'POST /v1/users/{u}/risk/reset, killed right after %s: after the restart applied once, one LOW SET from admin, one risk.reset',
    async (_what, n, match) => {
      const user = `erin-${n}@example.com`;
      const { worker: w1, held } = await workerHeldAfter((c) => match(c, user));
      const sets = () => levelSets(user);
      await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(user));
      await waitFor(() => sets().length === 1, { what: 'the HIGH SET', timeout: 20_000 });
      const answer = admin(w1, 'POST', `/v1/users/${encodeURIComponent(user)}/risk/reset`).catch(() => null);
      await held;
      expect(await w1.stop('SIGKILL')).toBeNull();
      expect(await answer).toBeNull();

      const w2 = await directWorker();
      await waitFor(() => sets().length >= 2, { what: 'the LOW SET', timeout: 45_000, interval: 250 });
      await waitFor(async () => (await auditOf(w2, 'set.delivered', user)).length >= 2, { what: 'its set.delivered entry', timeout: 20_000 });
      const risk = await admin(w2, 'GET', `/v1/users/${encodeURIComponent(user)}/risk`);
      expect([risk.json.level, risk.json.version]).toEqual(['low', 2]);
      const levels = sets().map((s) => [eventOf(s).body.current_level, eventOf(s).body.initiating_entity]);
      expect(levels).toEqual([
        ['HIGH', 'system'],
        ['LOW', 'admin'],
      ]);
      const resets = await auditOf(w2, 'risk.reset', user);
      expect(resets.map((e) => [e.details.previous, e.details.level, e.details.version])).toEqual([['high', 'low', 2]]);
      expect(await auditOf(w2, 'set.delivered', user)).toHaveLength(2);
      await w2.stop();
    },
    60_000,
  );

  it('POST /v1/events killed right after its body was appended, before the 202; the shipper sends it again: events with an id make one hit, one session, one SET', async () => {
    const user = 'frank@example.com';
    const sid = 's-crash-ingest-1';
    const { worker: w1, held } = await workerHeldAfter((c) => /\r\neval(sha)?\r\n/i.test(c) && c.includes('dlp-frank-1'));
    const body = [
      sessionLogin(user, sid),
      JSON.stringify({
        type: 'dlp',
        id: 'dlp-frank-1',
        user,
        time: Date.now() - 500,
        profile: 'credit-cards',
        severity: 'high',
        action: 'block',
        app: 'drive',
      }),
    ].join('\n');
    const post = (w: WorkerProcess) =>
      fetch(`${w.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' }, body });
    const answer = post(w1).catch(() => null);
    await held;
    expect(await w1.stop('SIGKILL')).toBeNull();
    expect(await answer).toBeNull();

    const w2 = await directWorker();
    expect((await post(w2)).status).toBe(202); // the shipper's resend
    // Then a sentinel: a later login of the user (same partition, applied after the resend).
    await redis.xadd(`${prefix}:login`, '*', 'event', sessionLogin(user, 's-crash-ingest-2'));
    const path = `/v1/users/${encodeURIComponent(user)}`;
    const sessions = async () => ((await admin(w2, 'GET', `${path}/sessions`)).json.sessions as Array<{ session_id: string }>).map((x) => x.session_id).sort();
    await waitFor(async () => (await sessions()).includes('s-crash-ingest-2'), { what: 'the sentinel applied', timeout: 20_000 });
    await waitFor(async () => (await auditOf(w2, 'set.delivered', user)).length > 0, { what: 'the SET delivered', timeout: 20_000 });
    // In the input twice (docs/shippers.md: the killed append and the resend), applied as once.
    const dlp = (await redis.xrange(`${prefix}:activity`, '-', '+')).filter(([, f]) => f.join(' ').includes('dlp-frank-1'));
    expect(dlp).toHaveLength(2);
    expect(await sessions()).toEqual([sid, 's-crash-ingest-2']);
    const events = (await admin(w2, 'GET', `${path}/events`)).json.events as Array<{ kind: string }>;
    expect(events.map((e) => e.kind).sort()).toEqual(['change', 'hit']);
    const risk = (await admin(w2, 'GET', `${path}/risk`)).json;
    expect([risk.level, risk.version]).toEqual(['medium', 1]);
    expect(levelSets(user).map((s) => eventOf(s).body.current_level)).toEqual(['MEDIUM']);
    await w2.stop();
  }, 60_000);

  it('killed while the receiver holds a HIGH push, a reset queued behind it: after the restart LOW comes last, never HIGH after it; nothing audited twice', async () => {
    const user = 'gina@example.com';
    const done = await completedJobs();
    const w1 = await directWorker();
    const held = new Promise<void>((r) => (holdNextPush = r));
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(user));
    await held;
    await waitFor(() => levelSets(user).length === 1, { what: 'the HIGH SET at the receiver' });
    const reset = await admin(w1, 'POST', `/v1/users/${encodeURIComponent(user)}/risk/reset`);
    expect([reset.status, reset.json.level, reset.json.version]).toEqual([200, 'low', 2]);
    expect(await w1.stop('SIGKILL')).toBeNull();
    rxProxy.resume(); // the held answer goes nowhere

    const w2 = await directWorker();
    await waitFor(() => levelSets(user).some((s) => eventOf(s).body.current_level === 'LOW'), { what: 'the LOW SET', timeout: 45_000, interval: 250 });
    // Both jobs finished: the LOW one delivered, the HIGH one (its worker killed mid-push) run again and found superseded.
    await waitFor(async () => (await completedJobs()) >= done + 2, { what: 'both jobs finished', timeout: 45_000, interval: 250 });
    expect((await auditOf(w2, 'set.superseded', user)).map((e) => e.details.version)).toEqual([1]);
    const levels = levelSets(user).map((s) => eventOf(s).body.current_level);
    expect(levels.at(-1)).toBe('LOW');
    expect(levels.indexOf('LOW')).toBe(levels.length - 1); // nothing after it
    const delivered = (await auditOf(w2, 'set.delivered', user)).map((e) => e.details.jti);
    expect(new Set(delivered).size).toBe(delivered.length); // one entry per SET at most
    expect(delivered).toContain(levelSets(user).at(-1)!.claims.jti);
    await w2.stop();
  }, 60_000);

  it('the list bridge killed right after moving its first batch: after the restart each item is in the stream once, the list empty, a bad item dead-lettered once', async () => {
    const list = `${prefix}:bridge:vector`;
    const items = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ type: 'access', id: `list-${i}`, user: `list-${i % 7}@example.com`, time: Date.now(), outcome: 'allowed' }),
    );
    items.splice(10, 0, '{not json list-bad'); // in the first batch: moved before the kill
    let armed = false; // the bridge's passes while the worker starts (an empty list) go through
    const { worker: w1, held } = await workerHeldAfter((c) => armed && /\r\neval(sha)?\r\n/i.test(c) && c.includes(list));
    armed = true;
    await redis.rpush(list, ...items);
    await held;
    expect(await w1.stop('SIGKILL')).toBeNull();
    const w2 = await directWorker();
    await waitFor(async () => (await redis.llen(list)) === 0, { what: 'the list drained', timeout: 30_000, interval: 200 });
    const moved = (await redis.xrange(`${prefix}:activity`, '-', '+')).map(([, f]) => f[f.indexOf('event') + 1]!).filter((e) => e.includes('list-'));
    expect(moved.length).toBe(items.length);
    expect(new Set(moved)).toEqual(new Set(items));
    const bad = async () => (await redis.xrange(`${prefix}:dead-letter`, '-', '+')).filter(([, f]) => f.join(' ').includes('list-bad'));
    await waitFor(async () => (await bad()).length > 0, { what: 'the bad item dead-lettered', timeout: 20_000 });
    expect(await bad()).toHaveLength(1);
    await w2.stop();
  }, 60_000);

  // Pushed, then killed right after its audit entry, or right after its version was marked delivered.
  it.each([
    ['its set.delivered entry', 1, (c: string, user: string) => c.includes('set.delivered') && c.includes(user)],
    ['its version marked delivered', 2, (c: string, user: string) => /\r\neval(sha)?\r\n/i.test(c) && c.includes(`{${user}}:delivered`)],
  ])(
    'a SET pushed, killed right after %s: after the restart one set.delivered, none superseded, the same jti',
    async (_what, n, match) => {
      const user = `dave-${n}@example.com`;
      const done = await completedJobs();
      const { worker: w1, held } = await workerHeldAfter((c) => match(c, user));
      await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(user));
      await held;
      expect(await w1.stop('SIGKILL')).toBeNull();
      const sets = () => levelSets(user);
      expect(await completedJobs()).toBe(done); // its job not completed
      expect(sets()).toHaveLength(1); // pushed before the kill
      const jti = sets()[0]!.claims.jti;

      // The next worker runs the job again (stalled): it was delivered, and is audited so, once.
      const w2 = await directWorker();
      await waitFor(async () => (await completedJobs()) > done, { what: 'the job run again to its end', timeout: 45_000, interval: 250 });
      expect((await auditOf(w2, 'set.delivered', user)).map((e) => e.details.jti)).toEqual([jti]);
      expect(await auditOf(w2, 'set.superseded', user)).toEqual([]);
      expect(new Set(sets().map((s) => s.claims.jti))).toEqual(new Set([jti])); // the same jti again at most
      await w2.stop();
    },
    60_000,
  );
});
