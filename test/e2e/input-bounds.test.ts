import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { levelScore } from '../../src/risk/store.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { untilQuiet } from '../helpers/quiet.js';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';

/**
 * Issue 13 row 1 / must-have 1, row 7, row 11; issue 14 items 3 and 4 — against a real worker
 * process, real Redis and a real receiver on loopback.
 */
const h = workerHarness(
  'e2e-bounds',
  (url) => ({
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
    ingest: { stall_after: '1s' },
  }),
  { receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' } },
);

const H = 3_600_000;
const T = Date.now() - 6 * H;
const LONDON = { lat: 51.5, lon: -0.12, country: 'GB', city: 'London' };
const SYDNEY = { lat: -33.87, lon: 151.21, country: 'AU', city: 'Sydney' };
const login = (user: string, time: unknown, geo: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'login', user, time, outcome: 'success', ip: geo === SYDNEY ? '1.128.0.1' : '81.2.69.142', geo, ...extra });

const setFor = (user: string) => h.receiver.received.some((s) => (s.claims.sub_id as { email?: string })?.email === user);
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(init.headers ?? {}) } });
async function deadLetters(): Promise<Array<Record<string, string>>> {
  const rows = await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+');
  return rows.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]]))));
}
async function pendingCount(stream: string): Promise<number> {
  return ((await h.redis.xpending(`${h.prefix}:${stream}`, 'riskstream')) as [number])[0];
}

describe('no input can stop the pipeline', () => {
  it('poison times (expires_at 1e22, time 1e21, time 1e308, far future) are dead-lettered with a reason; others are still scored', async () => {
    const user = 'alice@example.com';
    const m = h.redis.multi();
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T, LONDON));
    m.xadd(`${h.prefix}:login`, '*', 'event', login('m1@example.com', T, LONDON, { session: { id: 'p-1', expires_at: 1e22 } }));
    m.xadd(`${h.prefix}:login`, '*', 'event', login('m2@example.com', 1e21, LONDON, { session: { id: 'p-2' } }));
    m.xadd(`${h.prefix}:login`, '*', 'event', login('m3@example.com', 1e308, LONDON, { session: { id: 'p-3' } }));
    m.xadd(`${h.prefix}:login`, '*', 'event', login('m4@example.com', 1e20, LONDON));
    m.xadd(`${h.prefix}:login`, '*', 'event', login('m5@example.com', Date.now() + 30 * 86_400_000, LONDON));
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T + 2 * H, SYDNEY));
    await m.exec();

    await waitFor(() => setFor(user), { what: "alice's SET" });
    const dead = await waitFor(
      async () => {
        const d = (await deadLetters()).filter((x) => /^m\d@/.test(JSON.parse(x['orig.event'] ?? '{}').user ?? ''));
        return d.length >= 5 ? d : undefined;
      },
      { what: 'five dead letters' },
    );
    for (const d of dead) {
      expect(d.reason).toMatch(/time_out_of_range/);
      expect(d.reason).not.toMatch(/1e\+?2|1e\+?308/);
    }
    expect(await pendingCount('login')).toBe(0);
    // Row 11: the far-future user never reached the state, so the console and risk routes stay sound.
    expect((await api('/v1/users/m4%40example.com/risk')).status).not.toBe(500);
    expect((await api('/v1/users?level=low')).status).toBe(200);
  });

  it('events nested thousands of levels deep (JSON, a flat field, a dotted key) are dead-lettered; the rest is scored; POST /v1/events answers 202', async () => {
    const user = 'carol@example.com';
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const m = h.redis.multi();
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T, LONDON));
    m.xadd(`${h.prefix}:activity`, '*', 'event', `{"type":"dlp","user":"deep1@example.com","time":${T},"x":${deep(10_000)}}`);
    m.xadd(`${h.prefix}:login`, '*', 'type', 'login', 'user', 'deep2@example.com', 'time', String(T), 'device.posture', deep(8_000));
    m.xadd(`${h.prefix}:login`, '*', 'type', 'login', 'user', 'deep3@example.com', 'time', String(T), `${'a.'.repeat(10_000)}a`, '1');
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T + 2 * H, SYDNEY));
    await m.exec();
    await waitFor(() => setFor(user), { what: "carol's SET" });
    const dead = await waitFor(
      async () => {
        const d = (await deadLetters()).filter((x) => /deep\d@/.test(JSON.stringify(x).slice(0, 100_000)));
        return d.length >= 3 ? d : undefined;
      },
      { what: 'three dead letters' },
    );
    for (const d of dead) expect(d.reason).toBe('event: nested more than 32 levels deep');
    // Acked once their dead letters exist: the ack goes with the router's next read (or when it idles), a moment later.
    await waitFor(async () => (await pendingCount('login')) === 0 && (await pendingCount('activity')) === 0, { what: 'every input entry acked' });
    const r = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/json' },
      body: `[{"type":"dlp","user":"dave@example.com","time":${Date.now() - 60_000}},{"type":"dlp","user":"deep4@example.com","time":${Date.now()},"x":${deep(6_000)}}]`,
    });
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 1, reason: 'event: nested more than 32 levels deep' }] });
  });

  it('an event larger than ingest.max_event_size (1 MiB) is dead-lettered, over HTTP rejected; one just under is scored', async () => {
    const user = 'fay@example.com';
    const big = 'x'.repeat(1024 * 1024);
    const m = h.redis.multi();
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T, LONDON, { note: 'y'.repeat(1024 * 1024 - 1000) }));
    m.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify({ type: 'dlp', user: 'big1@example.com', time: T, note: big }));
    m.xadd(`${h.prefix}:activity`, '*', 'type', 'dlp', 'user', 'big2@example.com', 'time', String(T), 'note', big);
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T + 2 * H, SYDNEY));
    await m.exec();
    await waitFor(() => setFor(user), { what: "fay's SET (her first login just under the limit)" });
    const dead = await waitFor(
      async () => {
        const d = (await deadLetters()).filter((x) => x.reason === 'event: larger than 1048576 characters');
        return d.length >= 2 ? d : undefined;
      },
      { what: 'two dead letters' },
    );
    for (const d of dead) expect(d.reason).toBe('event: larger than 1048576 characters');
    // A field over 64 KiB is not kept (the whole entry stays in its source stream), its length under `truncated`.
    expect(dead.map((d) => d.truncated).sort()).toEqual([
      `event=${JSON.stringify({ type: 'dlp', user: 'big1@example.com', time: T, note: big }).length}`,
      `note=${big.length}`,
    ]);
    expect(await pendingCount('activity')).toBe(0);
    const r = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: `{"type":"dlp","user":"gus@example.com","time":${Date.now() - 60_000}}\n{"type":"dlp","user":"big3@example.com","time":${Date.now() - 60_000},"note":"${big}"}`,
    });
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 1, reason: 'event: larger than 1048576 characters' }] });
    // A record under the limit whose stored form is over it (1e20 is stored as 21 digits) is refused at once, not dead-lettered later.
    const nums = `[${Array.from({ length: 180_000 }, () => '1e20').join(',')}]`;
    const r2 = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: `{"type":"dlp","user":"big5@example.com","time":${Date.now() - 60_000},"nums":${nums}}`,
    });
    expect(await r2.json()).toMatchObject({ accepted: 0, rejected: 1, errors: [{ index: 0, reason: 'event: larger than 1048576 characters' }] });
  });

  it('a POST /v1/events record over 64 KiB (under ingest.max_event_size) that is refused is dead-lettered whole: no stream keeps it (was `[not kept …]`: lost)', async () => {
    // An EDR detection with a long process tree, missing its `user` (a shipper's mapping slip).
    const rec = JSON.stringify({ type: 'endpoint', time: Date.now() - 60_000, detection: 'malware', severity: 'critical', tree: 'p'.repeat(200_000) });
    const r = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: rec,
    });
    expect(await r.json()).toMatchObject({ accepted: 0, rejected: 1, errors: [{ index: 0, reason: 'user: required' }] });
    const dead = await waitFor(async () => (await deadLetters()).find((d) => d.source_stream === 'http:/v1/events' && d.reason === 'user: required'), {
      what: 'the dead letter',
    });
    expect(dead.truncated).toBeUndefined();
    expect(dead['orig.event']).toBe(rec);
  });

  it('POST /v1/events applies the same bounds (issue 14 item 4)', async () => {
    const body = [
      JSON.stringify({ type: 'dlp', user: 'dave@example.com', time: Date.now() - 60_000, profile: 'pii', severity: 'low' }),
      JSON.stringify({ type: 'dlp', user: 'dave@example.com', time: 1e308, profile: 'pii', severity: 'low' }),
      JSON.stringify({ type: 'dlp', user: 'dave@example.com', time: Date.now() + 10 * 86_400_000, profile: 'pii', severity: 'low' }),
    ].join('\n');
    const r = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(r.status).toBe(202);
    const out = (await r.json()) as { accepted: number; rejected: number; errors: Array<{ index: number; reason: string }> };
    expect(out).toMatchObject({ accepted: 1, rejected: 2 });
    for (const e of out.errors) expect(e.reason).toMatch(/^time: time_out_of_range/);
  });

  it('an entry whose processing fails is dead-lettered at once with the error code (no retries), while the rest of its batch goes on', async () => {
    const bad = 'mallory@example.com';
    const user = 'bob@example.com';
    const keys = new Keys(h.prefix);
    // Inject a processing failure on real Redis: mallory's stored state is readable but the reducer
    // cannot apply anything to it (its behaviors are not an object) — the same on every replay.
    const broken = encodeState({ ...emptyState(bad), behaviors: null } as unknown as UserState);
    await h.redis.hset(keys.userState(bad), bad, broken);
    const m = h.redis.multi();
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T, LONDON));
    m.xadd(`${h.prefix}:login`, '*', 'event', login(bad, T, LONDON));
    m.xadd(`${h.prefix}:login`, '*', 'event', login(user, T + 2 * H, SYDNEY));
    const ids = ((await m.exec()) ?? []).map(([, id]) => String(id));

    // Bob's logins on both sides of mallory's were applied: his impossible travel raised a SET.
    await waitFor(() => setFor(user), { what: "bob's SET" });
    const dead = await waitFor(async () => (await deadLetters()).find((d) => d['orig.event']?.includes(bad)), { what: "mallory's dead letter" });
    expect(dead.reason).toBe('processing_failed: INTERNAL');
    expect(dead).toMatchObject({ source_stream: `${h.prefix}:login`, source_id: ids[1], deliveries: '1' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    // Once: a failure is deterministic, so it is not retried (its position is committed past it).
    expect((await deadLetters()).filter((d) => d['orig.event']?.includes(bad))).toHaveLength(1);
    expect((await h.redis.hgetBuffer(keys.userState(bad), bad))?.toString('hex')).toBe(broken.toString('hex'));
    expect(await h.redis.xlen(keys.userEvents(bad))).toBe(0);
    expect(await pendingCount('login')).toBe(0);
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/riskstream_events_poisoned_total\{[^}]*code="INTERNAL"[^}]*\} 1/);
    await h.redis.hdel(keys.userState(bad), bad);
  });
});

describe('sessions and geo', () => {
  it("a session id already bound to alice is not taken over by bob's login (audited); revoking all of alice's revokes it", async () => {
    const now = Date.now();
    // bob30 shares alice2's partition (of 64): the refusal is made there (across partitions both are kept, test/sessions/collision.test.ts).
    const keys = new Keys(h.prefix);
    expect(keys.partitionOf('bob30@example.com')).toBe(keys.partitionOf('alice2@example.com'));
    const session = (user: string) => ({ id: 's-collide', expires_at: now + H, claims: { email: user } });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('alice2@example.com', now - 60_000, LONDON, { session: session('alice2@example.com') }));
    await waitFor(async () => ((await (await api('/v1/sessions/s-collide')).json()) as { user?: string }).user, { what: "alice's session" });
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login('bob30@example.com', now - 30_000, LONDON, { session: session('bob30@example.com'), device: { id: 'bob-laptop', posture: { os: 'linux' } } }),
    );
    const entry = await waitFor(
      async () => {
        const rows = await h.redis.xrange(`${h.prefix}:audit`, '-', '+');
        return rows.find(([, f]) => f[f.indexOf('action') + 1] === 'session.rebind_refused');
      },
      { what: 'session.rebind_refused audit entry' },
    );
    expect(entry[1].join(' ')).toContain('s-collide');
    expect(((await (await api('/v1/sessions/s-collide')).json()) as { user: string }).user).toBe('alice2@example.com');
    const list = (await (await api('/v1/users/alice2%40example.com/sessions')).json()) as { sessions: unknown[] };
    expect(list.sessions).toHaveLength(1);
    const bobs = (await (await api('/v1/users/bob30%40example.com/sessions')).json()) as { sessions: unknown[]; devices: unknown[] };
    expect(bobs.sessions).toHaveLength(0);
    // The refused login leaves no trace in bob's records: no device naming alice's session (whose
    // GET /v1/sessions/s-collide?user=bob30… answers 404).
    expect(bobs.devices).toEqual([]);
    expect((await api('/v1/sessions/s-collide?user=bob30%40example.com')).status).toBe(404);
    const revoked = (await (await api('/v1/users/alice2%40example.com/sessions', { method: 'DELETE' })).json()) as { revoked: number };
    expect(revoked.revoked).toBe(1);
  });

  it('country-only geo is valid: an access event and a login with only geo.country are accepted; the session keeps the country', async () => {
    const before = (await deadLetters()).length;
    const now = Date.now();
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      login('carol@example.com', now - 60_000, { country: 'AU' }, { session: { id: 's-carol', expires_at: now + H } }),
    );
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({
        type: 'access',
        user: 'carol@example.com',
        time: now - 30_000,
        outcome: 'allowed',
        app: 'drive',
        session: { id: 's-carol' },
        ip: '1.128.0.1',
        geo: { country: 'AU' },
      }),
    );
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'type',
      'access',
      'user',
      'carol@example.com',
      'time',
      String(now - 20_000),
      'outcome',
      'allowed',
      'geo.city',
      'Sydney',
    );
    const s = await waitFor(
      async () => {
        const r = await api('/v1/sessions/s-carol');
        return r.status === 200 ? ((await r.json()) as { geo?: Record<string, unknown> }) : undefined;
      },
      { what: "carol's session" },
    );
    expect(s.geo).toEqual({ country: 'AU' });
    await waitFor(async () => (await pendingCount('activity')) === 0 && (await pendingCount('login')) === 0, { what: 'all acked' });
    expect((await deadLetters()).length).toBe(before);
  });
});

describe('far-future times (row 11)', () => {
  it('a stored hit with an absurd time (from before the window existed) keeps every route answering and the user in its level', async () => {
    const user = 'future@example.com';
    const keys = new Keys(h.prefix);
    const state: UserState = {
      user,
      level: 'high',
      version: 1,
      windows: {},
      changedAt: 1e20,
      updatedAt: 1e20,
      behaviors: { impossible_travel: { level: 'high', firstAt: 1e20, lastAt: 1e20, expiresAt: 1e20 + 86_400_000, hits: 1, summary: 'x', evidence: {} } },
    };
    await h.redis.hset(keys.userState(user), user, encodeState(state));
    await h.redis.zadd(keys.usersByLevel(keys.partitionOf(user)), levelScore(state), user);
    const risk = await api(`/v1/users/${encodeURIComponent(user)}/risk`);
    expect(risk.status).toBe(200);
    expect(((await risk.json()) as { level: string }).level).toBe('high');
    expect((await api(`/v1/users/${encodeURIComponent(user)}/events`)).status).toBe(200);
    const high = (await (await api('/v1/users?level=high')).json()) as { users: Array<{ user: string }> };
    expect(high.users.map((u) => u.user)).toContain(user);
    const table = await api('/v1/console/users?level=high');
    expect(table.status).toBe(200);
    expect(((await table.json()) as { users: Array<{ user: string }> }).users.map((u) => u.user)).toContain(user);
  });
});

describe('/readyz', () => {
  it('reports a pipeline that has not advanced while input waits (stall_after 1s), and recovers', async () => {
    expect((await fetch(`${h.worker.url}/readyz`)).status).toBe(200);
    // Make every batch fail before the guard can help: the dead-letter stream key has the wrong type.
    const dl = `${h.prefix}:dead-letter`;
    const saved = await h.redis.xrange(dl, '-', '+');
    await h.redis.del(dl);
    await h.redis.set(dl, 'not a stream');
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', '{"type":"dlp", not json');
    const body = await waitFor(
      async () => {
        const r = await fetch(`${h.worker.url}/readyz`);
        return r.status === 503 ? ((await r.json()) as { checks: Record<string, boolean>; reasons?: Record<string, string> }) : undefined;
      },
      { what: 'readyz 503' },
    );
    expect(body.checks.pipeline).toBe(false);
    // Stalled (no progress for stall_after), or stuck (the entry read 10 times) when that comes first.
    expect(body.reasons?.pipeline).toMatch(/^(stalled|stuck): /);
    await h.redis.del(dl);
    await waitFor(async () => (await fetch(`${h.worker.url}/readyz`)).status === 200, { what: 'readyz 200 again' });
    expect(saved.length).toBeGreaterThan(0);
  });
});
