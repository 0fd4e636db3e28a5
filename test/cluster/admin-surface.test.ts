/**
 * The admin API, SSF stream management, the CLI and the list bridge on a Redis Cluster with two
 * worker processes (black box, CONTRACT §1, §5): every endpoint answers the same from each worker,
 * SETs arrive once per level change in per-user order, a SIGTERM'd worker's partitions move to the
 * other, and every key of the run is gone from every master afterwards.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NODES, clusterClient, keyCountsPerMaster, requireCluster } from '../helpers/cluster.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { apiClient, CAEP_REVOKED, CAEP_RISK, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { runCli } from '../cli/run.js';
import { dlpEvent, edrEvent, endClusterRun, getFrom } from '../helpers/cluster-run.js';

const up = await requireCluster('cluster/admin-surface');
const prefix = testPrefix('clu-admin');
const SSF_TOKEN = 'clu-admin-ssf-token-0123456789abcdef';
const METRICS_TOKEN = 'clu-admin-metrics-token-0123456789ab';
const USERS = Array.from({ length: 24 }, (_, i) => `clu-${String(i).padStart(2, '0')}@example.com`);
const wantLevel = (i: number): string => ['high', 'medium', 'low'][i % 3]!;
const HOUR = 3_600_000;

describe.skipIf(!up)('admin API, SSF streams, CLI and list bridge on a Redis Cluster with two workers', () => {
  let cluster: Cluster;
  let receiver: TestReceiver;
  let cfg: TestConfig;
  const workers: WorkerProcess[] = [];
  const t0 = Date.now() - 4 * HOUR;
  const bridged = `{${prefix}}:bridged`;
  const list = `{${prefix}}:bridge:logstash`;

  const get = (w: WorkerProcess, path: string, token = cfg.adminToken): Promise<{ status: number; json: any }> => getFrom(w, path, token);
  const send = async (w: WorkerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const r = await fetch(`${w.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${cfg.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    return { status: r.status, json: text.startsWith('{') ? JSON.parse(text) : text };
  };
  /** Every page of a cursor list. */
  const pages = async (w: WorkerProcess, path: string, field: string, limit: number): Promise<any[]> => {
    const out: any[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 500; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await get(w, `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect([path, r.status]).toEqual([path, 200]);
      out.push(...(r.json[field] as unknown[]));
      cursor = r.json.next_cursor as string | null;
      if (!cursor) return out;
    }
    throw new Error(`${path}: pagination did not end`);
  };
  /** The email a SET is about (`email` or `complex` subject). */
  const subjectOf = (s: { claims: Record<string, unknown> }): string | undefined => {
    const sub = s.claims.sub_id as { email?: string; user?: { email?: string } };
    return sub.email ?? sub.user?.email;
  };
  const setsOf = (user: string, type = CAEP_RISK) => receiver.received.filter((s) => s.path === '/rx' && subjectOf(s) === user && eventOf(s).type === type);

  beforeAll(async () => {
    cluster = clusterClient();
    receiver = await startReceiver();
    cfg = await writeTestConfig(prefix, {
      redis: { cluster: CLUSTER_NODES, prefix },
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/rx`, audience: 'https://rx.test', subject_format: 'email' }],
      http: { ssf_tokens: [SSF_TOKEN], metrics_tokens: [METRICS_TOKEN] },
      ssf: { allowed_endpoints: ['127.0.0.1'] },
      streams: { block: '200ms', claim_idle: '2s', extra: [bridged] },
      bridge: { lists: { [list]: bridged }, interval: '50ms' },
    });
    for (const id of ['clu-a', 'clu-b']) workers.push(await spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: id, RISKSTREAM_CONSUMER: id }));
    receiver.setJwks(`${workers[0]!.url}/.well-known/jwks.json`);
  }, 120_000);

  afterAll(async () => {
    expect(await endClusterRun({ prefix, cluster, receiver, cfg, workers })).toBe(0);
  }, 60_000);

  it('healthz, readyz and metrics on each worker', async () => {
    for (const w of workers) {
      expect((await get(w, '/healthz', '')).status).toBe(200);
      const ready = await waitFor(async () => ((await get(w, '/readyz', '')).status === 200 ? true : undefined), { timeout: 20_000, what: 'ready' });
      expect(ready).toBe(true);
      const m = await get(w, '/metrics', METRICS_TOKEN);
      expect(m.status).toBe(200);
      expect(String(m.json)).toMatch(/^# (HELP|TYPE) riskstream_/m);
      expect((await get(w, '/metrics', 'wrong-token-0123456789abcdef')).status).toBe(401);
    }
  });

  it('POST /v1/events ingests every user; each worker lists the same users by level, paged over all masters', async () => {
    const lines: string[] = [];
    USERS.forEach((user, i) => {
      const session = { id: `sess-${prefix}-${i}`, expires_at: new Date(Date.now() + 24 * HOUR).toISOString() };
      lines.push(
        JSON.stringify({
          type: 'login',
          id: `l1-${i}`,
          user,
          time: t0,
          outcome: 'success',
          ip: '81.2.69.142',
          geo: { lat: 51.5, lon: -0.12, country: 'GB' },
          session,
        }),
      );
      if (i % 3 === 0)
        lines.push(
          JSON.stringify({
            type: 'login',
            id: `l2-${i}`,
            user,
            time: t0 + HOUR,
            outcome: 'success',
            ip: '1.128.0.1',
            geo: { lat: -33.87, lon: 151.21, country: 'AU' },
          }),
        );
      if (i % 3 === 1)
        lines.push(JSON.stringify({ type: 'dlp', id: `d-${i}`, user, time: t0 + HOUR, profile: 'cc', severity: 'high', action: 'block', app: 'drive' }));
    });
    const res = await fetch(`${workers[1]!.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: lines.join('\n'),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: lines.length, rejected: 0 });
    for (const [i, user] of USERS.entries()) {
      await waitFor(async () => (await get(workers[0]!, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level === wantLevel(i), {
        timeout: 30_000,
        what: `${user} ${wantLevel(i)}`,
      });
    }
    for (const level of ['high', 'medium', 'low']) {
      const want = USERS.filter((_, i) => wantLevel(i) === level).sort();
      for (const w of workers) {
        const got = (await pages(w, `/v1/users?level=${level}`, 'users', 3)).map((u: { user: string }) => u.user);
        expect(got.sort(), `${level} from ${w.url}`).toEqual(want);
      }
    }
    const all = await pages(workers[1]!, '/v1/users', 'users', 5);
    expect(all.map((u: { user: string }) => u.user).sort()).toEqual([...USERS].sort());
    const perMaster = await keyCountsPerMaster(prefix);
    expect(perMaster.size).toBe(3);
  }, 90_000);

  it('risk and events answer the same from each worker', async () => {
    for (const user of USERS.slice(0, 6)) {
      const path = `/v1/users/${encodeURIComponent(user)}`;
      const [a, b] = await Promise.all(workers.map((w) => get(w, `${path}/risk`)));
      expect(a!.status).toBe(200);
      expect(b!.json).toEqual(a!.json);
      const [ea, eb] = await Promise.all(workers.map((w) => pages(w, `${path}/events`, 'events', 1)));
      expect(ea!.length > 0).toBe(wantLevel(USERS.indexOf(user)) !== 'low');
      expect(eb).toEqual(ea);
    }
    expect((await get(workers[0]!, '/v1/users/nobody-here%40example.com/risk')).status).toBe(404);
  });

  it('one SET per level change, in per-user order', async () => {
    for (const [i, user] of USERS.entries()) {
      if (wantLevel(i) === 'low') continue;
      await waitFor(() => setsOf(user).length >= 1, { timeout: 20_000, what: `SET for ${user}` });
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const [i, user] of USERS.entries()) {
      const levels = setsOf(user).map((s) => eventOf(s).body.current_level);
      expect([user, levels]).toEqual([user, wantLevel(i) === 'low' ? [] : [wantLevel(i).toUpperCase()]]);
      expect(new Set(setsOf(user).map((s) => s.claims.jti)).size).toBe(levels.length);
    }
  });

  it('sessions: list over all masters, by user, by id, and DELETE sends session-revoked', async () => {
    const mine = (s: { session_id: string }) => s.session_id.startsWith(`sess-${prefix}-`);
    const [la, lb] = await Promise.all(workers.map((w) => pages(w, '/v1/sessions', 'sessions', 4)));
    expect(la!.filter(mine).length).toBe(USERS.length);
    expect(lb!.map((s) => s.session_id).sort()).toEqual(la!.map((s) => s.session_id).sort());
    const user = USERS[4]!;
    const sid = `sess-${prefix}-4`;
    const byUser = await get(workers[1]!, `/v1/users/${encodeURIComponent(user)}/sessions`);
    expect(byUser.status).toBe(200);
    expect(byUser.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([sid]);
    for (const w of workers) expect((await get(w, `/v1/sessions/${encodeURIComponent(sid)}`)).json).toMatchObject({ session_id: sid, user });
    const del = await send(workers[0]!, 'DELETE', `/v1/sessions/${encodeURIComponent(sid)}`);
    expect([del.status, del.json.revoked]).toEqual([200, true]);
    for (const w of workers) expect((await get(w, `/v1/sessions/${encodeURIComponent(sid)}`)).status).toBe(404);
    const set = await waitFor(() => setsOf(user, CAEP_REVOKED)[0], { timeout: 20_000, what: 'session-revoked SET' });
    expect(set.verified).toBe(true);
    expect((await send(workers[1]!, 'DELETE', `/v1/sessions/${encodeURIComponent(sid)}`)).status).toBe(404);
    const after = await pages(workers[1]!, '/v1/sessions', 'sessions', 7);
    expect(after.filter(mine).length).toBe(USERS.length - 1);
  }, 60_000);

  it('reset lowers a user on every worker and sends an admin SET; audit pages through every entry once', async () => {
    const user = USERS[0]!;
    const r = await send(workers[1]!, 'POST', `/v1/users/${encodeURIComponent(user)}/risk/reset`, { reason: 'cleared' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ previous_level: 'high', level: 'low' });
    for (const w of workers) expect((await get(w, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level).toBe('low');
    const set = await waitFor(() => setsOf(user).find((s) => eventOf(s).body.current_level === 'LOW'), { timeout: 20_000, what: 'reset SET' });
    expect(eventOf(set).body.initiating_entity).toBe('admin');
    const [aa, ab] = await Promise.all(workers.map((w) => pages(w, '/v1/audit', 'entries', 3)));
    expect(ab).toEqual(aa);
    expect(new Set(aa!.map((e) => e.id)).size).toBe(aa!.length);
    const actions = aa!.map((e) => e.action as string);
    expect(actions.some((a) => a.includes('reset'))).toBe(true);
    expect(actions.some((a) => a.includes('revoke'))).toBe(true);
  }, 60_000);

  it('SSF stream management: create, update, status, add-subject, verify; its SETs delivered', async () => {
    const api = apiClient(() => workers[0]!.url, SSF_TOKEN);
    const api2 = apiClient(() => workers[1]!.url, SSF_TOKEN);
    const created = await api('POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: `${receiver.url}/stream` },
      events_requested: [CAEP_RISK, CAEP_REVOKED],
    });
    expect(created.status).toBe(201);
    const id = created.json.stream_id as string;
    expect((await api2('GET', `/ssf/streams?stream_id=${id}`)).json.stream_id).toBe(id);
    expect((await api2('PATCH', '/ssf/streams', { stream_id: id, description: 'siem' })).json.description).toBe('siem');
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.description).toBe('siem');
    expect((await api2('POST', '/ssf/status', { stream_id: id, status: 'paused' })).json).toMatchObject({ status: 'paused' });
    expect((await api('GET', `/ssf/status?stream_id=${id}`)).json.status).toBe('paused');
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' })).json).toMatchObject({ status: 'enabled' });
    expect((await api2('POST', '/ssf/subjects:add', { stream_id: id, subject: { format: 'email', email: 'x@example.com' } })).status).toBe(200);
    expect((await api('POST', '/ssf/verify', { stream_id: id, state: 'clu-state' })).status).toBe(204);
    const v = await waitFor(() => receiver.received.find((s) => s.path === '/stream' && eventOf(s).type === VERIFICATION), {
      timeout: 20_000,
      what: 'verification',
    });
    expect(eventOf(v).body.state).toBe('clu-state');
    // min_verification_interval is one stream's, whichever worker is asked.
    const again = await api2('POST', '/ssf/verify', { stream_id: id, state: 'again' });
    expect([again.status, again.json.error]).toEqual([429, 'rate_limited']);
    const user = 'clu-stream@example.com';
    const res = await fetch(`${workers[1]!.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { type: 'login', user, time: t0, outcome: 'success', ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } },
        { type: 'login', user, time: t0 + HOUR, outcome: 'success', ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } },
      ]),
    });
    expect(res.status).toBe(202);
    const got = await waitFor(
      () => receiver.received.find((s) => s.path === '/stream' && eventOf(s).type === CAEP_RISK && (s.claims.sub_id as { email?: string }).email === user),
      { timeout: 20_000, what: 'a SET on the stream' },
    );
    expect(got.verified).toBe(true);
    expect((await api2('DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).status).toBe(404);
  }, 60_000);

  it('the list bridge moves a Logstash-style list (sharing its stream’s hash tag) on the cluster', async () => {
    const user = 'clu-bridge@example.com';
    const doc = (t: number, lat: number, lon: number) =>
      JSON.stringify({
        '@timestamp': new Date().toISOString(),
        '@version': '1',
        message: JSON.stringify({ type: 'login', user, time: t, outcome: 'success', ip: '81.2.69.142', geo: { lat, lon } }),
      });
    await cluster.rpush(list, doc(t0, 51.5, -0.12), doc(t0 + HOUR, -33.87, 151.21));
    await waitFor(async () => (await get(workers[0]!, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level === 'high', {
      timeout: 20_000,
      what: 'bridged user high',
    });
    expect(await cluster.llen(list)).toBe(0);
    // A backlog both workers' bridges drain at once: every item moved once, each user one SET.
    const many = Array.from({ length: 400 }, (_, i) => `clu-bulk-${i}@example.com`);
    await cluster.rpush(list, ...many.map((u, i) => JSON.stringify(dlpEvent(u, `bulk-${i}`, t0))));
    await waitFor(async () => (await cluster.llen(list)) === 0, { timeout: 20_000, what: 'the list drained' });
    expect(await cluster.xlen(bridged)).toBe(2 + many.length);
    await waitFor(() => many.every((u) => setsOf(u).length >= 1), { timeout: 30_000, what: 'a SET per bulk user' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(many.filter((u) => setsOf(u).length !== 1)).toEqual([]);
  }, 60_000);

  it('CLI: config check, replay and risk with the cluster config (no REDIS_URL)', async () => {
    const env = { REDIS_URL: '' };
    const check = await runCli(['config', 'check', '--config', cfg.dir], { env });
    expect([check.code, check.stdout]).toEqual([0, expect.stringContaining('cluster')]);
    const file = join(cfg.dir, 'replay.ndjson');
    const user = 'clu-replay@example.com';
    writeFileSync(
      file,
      [
        { type: 'login', user, time: t0, outcome: 'success', ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } },
        { type: 'login', user, time: t0 + HOUR, outcome: 'success', ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const replay = await runCli(['replay', file, '--config', cfg.dir], { env, timeoutMs: 40_000 });
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(async () => (await get(workers[1]!, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level === 'high', {
      timeout: 20_000,
      what: 'replayed user high',
    });
    const risk = await runCli(['risk', user, '--config', cfg.dir], { env, timeoutMs: 40_000 });
    expect(risk.code, risk.stderr).toBe(0);
    expect(risk.stdout).toMatch(/high/i);
    expect(risk.stdout).toMatch(/impossible_travel/);
  }, 90_000);

  it('one session id under users of different partitions: by id the earliest login; DELETE removes every copy, a SET to each', async () => {
    const sid = `shared-${prefix}`;
    const expires_at = new Date(Date.now() + 24 * HOUR).toISOString();
    const users = ['clu-shared-a@example.com', 'clu-shared-b@example.com', 'clu-shared-c@example.com', 'clu-shared-d@example.com'];
    const body = users.map((user, i) =>
      JSON.stringify({ type: 'login', id: `sh-${i}`, user, time: t0 + i * 60_000, outcome: 'success', ip: '81.2.69.142', session: { id: sid, expires_at } }),
    );
    const res = await fetch(`${workers[0]!.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: body.join('\n'),
    });
    expect(res.status).toBe(202);
    const sessionsOf = async (w: WorkerProcess, u: string): Promise<string[]> =>
      (await get(w, `/v1/users/${encodeURIComponent(u)}/sessions`)).json.sessions.map((s: { session_id: string }) => s.session_id);
    for (const user of users) await waitFor(async () => (await sessionsOf(workers[1]!, user)).length === 1, { what: `${user} session` });
    for (const w of workers) expect((await get(w, `/v1/sessions/${sid}`)).json.user).toBe(users[0]);
    const del = await send(workers[1]!, 'DELETE', `/v1/sessions/${sid}`);
    expect([del.status, del.json.user]).toEqual([200, users[0]]);
    for (const w of workers) expect((await get(w, `/v1/sessions/${sid}`)).status).toBe(404);
    for (const user of users) expect(await sessionsOf(workers[0]!, user)).toEqual([]);
    for (const user of users) await waitFor(() => setsOf(user, CAEP_REVOKED).length === 1, { what: `${user}: session-revoked` });
  }, 60_000);

  it('DELETE a user’s sessions; a cursor from one worker continues on the other; audit by action', async () => {
    const user = USERS[7]!;
    const del = await send(workers[0]!, 'DELETE', `/v1/users/${encodeURIComponent(user)}/sessions`);
    expect([del.status, del.json]).toEqual([200, { user, revoked: 1, sessions: [`sess-${prefix}-7`], revoked_up_to: expect.any(Number) }]);
    await waitFor(() => setsOf(user, CAEP_REVOKED).length === 1, { what: 'user revoke SET' });
    for (const [path, field] of [
      ['/v1/users?level=high&limit=2', 'users'],
      ['/v1/sessions?limit=3', 'sessions'],
      ['/v1/audit?limit=4', 'entries'],
    ] as const) {
      const first = await get(workers[0]!, path);
      const next = `${path}&cursor=${encodeURIComponent(first.json.next_cursor)}`;
      const [a, b] = await Promise.all(workers.map((w) => get(w, next)));
      expect(a!.json[field].length).toBeGreaterThan(0);
      expect(b!.json).toEqual(a!.json);
    }
    const revoked = await get(workers[1]!, '/v1/audit?action=session.revoked&limit=100');
    expect(revoked.json.entries.map((e: { target: string }) => e.target)).toEqual(expect.arrayContaining([`sess-${prefix}-7`, `sess-${prefix}-4`]));
    expect(revoked.json.entries.every((e: { action: string }) => e.action === 'session.revoked')).toBe(true);
  }, 60_000);

  it('CLI: sessions list/show/revoke, audit tail, risk list/reset with the cluster config', async () => {
    const env = { REDIS_URL: '' };
    const cli = async (...args: string[]): Promise<string> => {
      const r = await runCli([...args, '--config', cfg.dir], { env, timeoutMs: 40_000 });
      expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, '']);
      return r.stdout;
    };
    const sid = `sess-${prefix}-10`;
    expect(await cli('sessions', 'list')).toContain(sid);
    expect(await cli('sessions', 'show', sid)).toContain(USERS[10]!);
    await cli('sessions', 'revoke', sid, '--reason', 'cli test');
    await waitFor(() => setsOf(USERS[10]!, CAEP_REVOKED).length === 1, { what: 'CLI revoke SET' });
    expect(await cli('audit', 'tail')).toContain('session.revoked');
    expect(await cli('risk', 'list')).toContain(USERS[3]!);
    await cli('risk', 'reset', USERS[3]!);
    await waitFor(() => setsOf(USERS[3]!).some((s) => eventOf(s).body.current_level === 'LOW'), { what: 'CLI reset SET' });
    for (const w of workers) expect((await get(w, `/v1/users/${encodeURIComponent(USERS[3]!)}/risk`)).json.level).toBe('low');
  }, 120_000);

  it('a stream changed through one worker is honoured by the other’s deliveries: paused, subject removed, resumed, moved, deleted', async () => {
    const api = apiClient(() => workers[0]!.url, SSF_TOKEN);
    const api2 = apiClient(() => workers[1]!.url, SSF_TOKEN);
    const id = (await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${receiver.url}/x1` }, events_requested: [CAEP_RISK] })).json
      .stream_id as string;
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'paused' })).json).toMatchObject({ status: 'paused' });
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: 'px-0@example.com' } })).status).toBe(204);
    const users = Array.from({ length: 20 }, (_, i) => `px-${i}@example.com`);
    const post = async (w: WorkerProcess, evs: unknown[]) => {
      const r = await fetch(`${w.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(evs),
      });
      expect(r.status).toBe(202);
    };
    await post(
      workers[1]!,
      users.map((user, i) => dlpEvent(user, `px-${i}`, t0)),
    );
    for (const u of users) await waitFor(() => setsOf(u).length === 1, { what: `${u} rx SET` });
    await new Promise((r) => setTimeout(r, 1500));
    const at = (path: string) => receiver.received.filter((s) => s.path === path && eventOf(s).type === CAEP_RISK);
    expect(at('/x1')).toHaveLength(0);
    expect((await api2('POST', '/ssf/status', { stream_id: id, status: 'enabled' })).json).toMatchObject({ status: 'enabled' });
    await waitFor(() => at('/x1').length >= users.length - 1, { timeout: 20_000, what: 'the held SETs' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(at('/x1').map(subjectOf).sort()).toEqual(users.slice(1).sort());
    const moved = await api2('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, endpoint_url: `${receiver.url}/x2` } });
    expect(moved.status).toBe(200);
    await post(
      workers[0]!,
      users.map((user, i) => edrEvent(user, `pe-${i}`, t0 + HOUR)),
    );
    for (const u of users) await waitFor(() => setsOf(u).length === 2, { what: `${u} rx SET 2` });
    await new Promise((r) => setTimeout(r, 2000));
    expect([at('/x1').length, at('/x2').map(subjectOf).sort()]).toEqual([users.length - 1, users.slice(1).sort()]);
    expect((await api('DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    await post(
      workers[1]!,
      users.map((user, i) => dlpEvent(user, `pd-${i}`, t0 + 2 * HOUR)),
    );
    await new Promise((r) => setTimeout(r, 1000));
    for (const u of users) await send(workers[1]!, 'POST', `/v1/users/${encodeURIComponent(u)}/risk/reset`, {});
    for (const u of users) await waitFor(() => setsOf(u).length === 3, { what: `${u} rx SET 3` });
    await new Promise((r) => setTimeout(r, 2000));
    expect([at('/x1').length, at('/x2').length]).toEqual([users.length - 1, users.length - 1]);
  }, 120_000);

  it('users paged across workers while two users are reset between pages: every other user listed once', async () => {
    const before = (await pages(workers[0]!, '/v1/users', 'users', 50)).map((u: { user: string }) => u.user);
    const first = await get(workers[0]!, '/v1/users?limit=4');
    const seen: string[] = first.json.users.map((u: { user: string }) => u.user);
    const mine = before.filter((u) => USERS.includes(u));
    const listed = seen.find((u) => mine.includes(u) && u !== seen[seen.length - 1]);
    const later = before.slice(8).find((u) => USERS.includes(u));
    for (const u of [listed, later]) if (u) expect((await send(workers[1]!, 'POST', `/v1/users/${encodeURIComponent(u)}/risk/reset`, {})).status).toBe(200);
    let cursor: string | null = first.json.next_cursor;
    while (cursor) {
      const r = await get(workers[1]!, `/v1/users?limit=4&cursor=${encodeURIComponent(cursor)}`);
      seen.push(...r.json.users.map((u: { user: string }) => u.user));
      cursor = r.json.next_cursor;
    }
    const moved = new Set([listed, later]);
    for (const u of before.filter((x) => !moved.has(x))) expect([u, seen.filter((x) => x === u).length]).toEqual([u, 1]);
  }, 60_000);

  it('entries that cannot be understood, from a stream and from POST /v1/events, are dead-lettered once each on the cluster (CONTRACT §2)', async () => {
    const login = `${prefix}:login`;
    const deadLetter = `${prefix}:dead-letter`;
    const before = await cluster.xlen(deadLetter);
    const ids = [
      await cluster.xadd(login, '*', 'event', '{not json'),
      await cluster.xadd(login, '*', 'type', 'login', 'outcome', 'success'), // no user
      await cluster.xadd(login, '*', 'event', JSON.stringify({ type: 'login', user: 'clu-dl@example.com', time: 'yesterday-ish' })),
    ];
    const res = await fetch(`${workers[1]!.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: ['{broken', JSON.stringify({ type: 'login', time: t0 })].join('\n'),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 0, rejected: 2 });
    const rows = await waitFor(
      async () => {
        const r = (await cluster.xrange(deadLetter, '-', '+')).slice(before);
        return r.length >= 5 ? r : undefined;
      },
      { timeout: 20_000, what: 'five dead letters' },
    );
    await new Promise((r) => setTimeout(r, 1000)); // none more (each once)
    expect(await cluster.xlen(deadLetter)).toBe(before + 5);
    const fields = rows.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(fields.filter((f) => f.source_stream === login).map((f) => f.source_id)).toEqual(ids);
    for (const f of fields) expect(f.reason).toBeTruthy();
    // Each input entry's marker lives in the dead-letter stream's slot, under the prefix.
    expect(await cluster.exists(`{${deadLetter}}:seen:${login}/${ids[0]}`)).toBe(1);
  }, 60_000);

  it('a SIGTERM’d worker exits 0 and its partitions move: the other worker processes new input', async () => {
    const gone = workers[0]!;
    expect(await gone.stop('SIGTERM')).toBe(0);
    const w = workers[1]!;
    const fresh = USERS.map((u) => u.replace('clu-', 'clu-late-'));
    const res = await fetch(`${w.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: fresh
        .map((user) =>
          JSON.stringify({ type: 'endpoint', user, time: t0, device: { id: 'd' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }),
        )
        .join('\n'),
    });
    expect(res.status).toBe(202);
    for (const user of fresh) {
      await waitFor(async () => (await get(w, `/v1/users/${encodeURIComponent(user)}/risk`)).json.level === 'high', { timeout: 30_000, what: `${user} high` });
    }
    const got = (await pages(w, '/v1/users?level=high', 'users', 10)).map((u: { user: string }) => u.user);
    expect(got).toEqual(expect.arrayContaining(fresh));
  }, 90_000);
});
