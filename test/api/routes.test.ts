import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-routes');
const redis = redisClient();
let receiver: TestReceiver;
let w: ApiWorker;

const HIGH = Array.from({ length: 5 }, (_, i) => `high-${i}@example.com`);
const MEDIUM = Array.from({ length: 3 }, (_, i) => `medium-${i}@example.com`);
const LOW = Array.from({ length: 2 }, (_, i) => `low-${i}@example.com`);
const ALL = [...HIGH, ...MEDIUM, ...LOW];
const t0 = Date.now();
const at = (min: number): string => new Date(t0 + min * 60_000).toISOString();

const admin = (path: string, opts: Parameters<typeof call>[2] = {}) => call(w.url, path, { token: w.cfg.adminToken, ...opts });
const riskOf = async (user: string) =>
  (await admin(`/v1/users/${encodeURIComponent(user)}/risk`)).json as { level: string; version: number; behaviors: Array<{ id: string }> };

beforeAll(async () => {
  receiver = await startReceiver({ audience: 'https://receiver.test', issuer: 'https://riskstream.test' });
  w = await startApiWorker(prefix, {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://receiver.test', subject_format: 'email' }],
  });
  receiver.setJwks(`${w.url}/.well-known/jwks.json`);
  // Users of every level, created through POST /v1/events.
  const events = [
    ...HIGH.map((user, i) => ({
      type: 'endpoint',
      user,
      time: at(i),
      device: { id: `d-${i}` },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    })),
    ...MEDIUM.map((user, i) => ({ type: 'dlp', user, time: at(i), profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' })),
    ...LOW.map((user, i) => ({
      type: 'login',
      user,
      time: at(i),
      outcome: 'success',
      ip: '81.2.69.142',
      geo: { lat: 51.5, lon: -0.12, country: 'GB', city: 'London' },
    })),
  ];
  const r = await call(w.url, '/v1/events', {
    method: 'POST',
    token: w.cfg.ingestToken,
    body: events.map((e) => JSON.stringify(e)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(r.status).toBe(202);
  expect(r.json).toMatchObject({ accepted: events.length, rejected: 0 });
  await waitFor(
    async () => {
      const levels = await Promise.all(ALL.map(async (u) => (await admin(`/v1/users/${encodeURIComponent(u)}/risk`)).json?.level));
      return levels.every((l, i) => l === (i < HIGH.length ? 'high' : i < HIGH.length + MEDIUM.length ? 'medium' : 'low'));
    },
    { what: 'every user at its level' },
  );
  await waitFor(() => receiver.received.length >= HIGH.length + MEDIUM.length, { what: 'the SETs of the initial changes' });
});

afterAll(async () => {
  await w?.close();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('health, readiness, metrics', () => {
  it('GET /healthz and /readyz', async () => {
    const h = await call(w.url, '/healthz');
    expect(h.status).toBe(200);
    expect(h.json).toEqual({ status: 'ok' });
    const r = await call(w.url, '/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ready', checks: { redis: true, consumer_group: true, config: true, pipeline: true } });
  });

  it('GET /metrics: Prometheus text with riskstream_* metrics', async () => {
    // Deliveries are counted once the receiver's 202 is back: wait for the first.
    const r = await waitFor(
      async () => {
        const m = await admin('/metrics');
        return /^riskstream_set_deliveries_total\{receiver="rx",outcome="delivered"\} [1-9]/m.test(m.text) ? m : undefined;
      },
      { what: 'a delivery counted' },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const name of [
      'riskstream_events_processed_total',
      'riskstream_events_skipped_total',
      'riskstream_events_dead_lettered_total',
      'riskstream_batch_duration_seconds_bucket',
      'riskstream_behavior_hits_total',
      'riskstream_risk_changes_total',
      'riskstream_set_deliveries_total',
      'riskstream_consumer_lag',
      'riskstream_pending_entries',
      'riskstream_delivery_queue_depth',
      'riskstream_http_ingested_total',
      'riskstream_process_cpu_seconds_total',
    ]) {
      expect(r.text, name).toContain(`# TYPE ${name.replace(/_bucket$/, '')} `);
    }
    const value = (line: RegExp): number => Number(line.exec(r.text)?.[1]);
    expect(value(/^riskstream_events_processed_total (\d+)/m)).toBeGreaterThanOrEqual(ALL.length);
    expect(value(/^riskstream_http_ingested_total\{result="accepted"\} (\d+)/m)).toBeGreaterThanOrEqual(ALL.length);
    expect(value(/^riskstream_behavior_hits_total\{behavior="endpoint_detection"\} (\d+)/m)).toBe(HIGH.length);
    expect(value(/^riskstream_risk_changes_total\{level="high",initiator="system"\} (\d+)/m)).toBe(HIGH.length);
    expect(value(/^riskstream_set_deliveries_total\{receiver="rx",outcome="delivered"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(r.text).toMatch(new RegExp(`^riskstream_pending_entries\\{stream="${prefix}:login"\\} 0`, 'm'));
  });
});

describe('.well-known', () => {
  it('GET /.well-known/jwks.json: public keys only', async () => {
    const r = await call(w.url, '/.well-known/jwks.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/jwk-set\+json/);
    const keys = r.json.keys as Array<Record<string, unknown>>;
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
      expect(k.d).toBeUndefined();
    }
  });

  it('GET /.well-known/ssf-configuration', async () => {
    const r = await call(w.url, '/.well-known/ssf-configuration');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      issuer: 'https://riskstream.test',
      jwks_uri: 'https://riskstream.test/.well-known/jwks.json',
      delivery_methods_supported: expect.arrayContaining(['urn:ietf:rfc:8935']),
    });
  });
});

describe('an issuer with a path (SSF 1.0 §7.2.1)', () => {
  it('has its metadata at /.well-known/ssf-configuration/<path> too; another path is 404', async () => {
    const p = testPrefix('api-issuer-path');
    const wp = await startApiWorker(p, { issuer: 'https://riskstream.test/t1/' });
    try {
      const r = await call(wp.url, '/.well-known/ssf-configuration/t1');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ issuer: 'https://riskstream.test/t1/', spec_version: '1_0' });
      expect((await call(wp.url, '/.well-known/ssf-configuration')).json).toEqual(r.json);
      expect(isApiError(await call(wp.url, '/.well-known/ssf-configuration/t2'), 404, 'not_found')).toBe(true);
      expect(isApiError(await call(w.url, '/.well-known/ssf-configuration/t1'), 404, 'not_found')).toBe(true); // an issuer without a path
    } finally {
      await wp.close();
      await cleanup(redis, p);
    }
  });
});

describe('GET /v1/users', () => {
  it('walks more than one page with the cursor: every user once, high first', async () => {
    const seen: Array<{ user: string; level: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await admin(`/v1/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.json.users.length).toBeLessThanOrEqual(3);
      seen.push(...(r.json.users as Array<{ user: string; level: string }>));
      cursor = r.json.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBeGreaterThan(1);
    expect(seen.map((u) => u.user).sort()).toEqual([...ALL].sort());
    const rank = { high: 2, medium: 1, low: 0 } as Record<string, number>;
    const ranks = seen.map((u) => rank[u.level]!);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it('filters by level', async () => {
    const r = await admin('/v1/users?level=high&limit=1000');
    expect(r.status).toBe(200);
    expect((r.json.users as Array<{ user: string }>).map((u) => u.user).sort()).toEqual([...HIGH].sort());
    expect(r.json.next_cursor).toBeNull();
    const m = await admin('/v1/users?level=medium');
    expect((m.json.users as Array<{ user: string }>).map((u) => u.user).sort()).toEqual([...MEDIUM].sort());
  });

  it('a level in any case, as SETs spell it (HIGH) or mixed, filters as its lower-case word (was 400)', async () => {
    for (const [q, users] of [
      ['HIGH', HIGH],
      ['Medium', MEDIUM],
    ] as const) {
      const r = await admin(`/v1/users?level=${q}&limit=1000`);
      expect(r.status, q).toBe(200);
      expect((r.json.users as Array<{ user: string }>).map((u) => u.user).sort()).toEqual([...users].sort());
    }
    const table = await admin('/v1/console/users?level=HIGH&limit=500');
    expect(table.status).toBe(200);
    expect((table.json.users as Array<{ user: string }>).map((u) => u.user).sort()).toEqual([...HIGH].sort());
  });

  it('a user turning high between two pages makes the next page neither repeat nor skip anyone', async () => {
    const first = await admin('/v1/users?level=high&limit=2');
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const late = 'late-high@example.com';
    const before = receiver.received.length;
    const ev = {
      type: 'endpoint',
      user: late,
      time: new Date().toISOString(),
      device: { id: 'd-late' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    };
    const r = await call(w.url, '/v1/events', {
      method: 'POST',
      token: w.cfg.ingestToken,
      body: JSON.stringify(ev),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(202);
    await waitFor(async () => (await riskOf(late)).level === 'high', { what: 'the late user at high' });
    await waitFor(() => receiver.received.length > before, { what: "the late user's SET" });

    const seen = (first.json.users as Array<{ user: string }>).map((u) => u.user);
    let cursor: string | null = first.json.next_cursor;
    for (let pages = 0; cursor && pages < 20; pages++) {
      const page = await admin(`/v1/users?level=high&limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      seen.push(...(page.json.users as Array<{ user: string }>).map((u) => u.user));
      cursor = page.json.next_cursor;
    }
    // Every high user of the first snapshot exactly once; the newcomer ranks first, so it is on no later page.
    expect(seen.sort()).toEqual([...HIGH].sort());
  });

  it('400 on a bad level, limit or cursor', async () => {
    for (const q of ['level=severe', 'level=HIGHEST', 'limit=0', 'limit=1001', 'limit=abc', 'limit=2.5', 'cursor=!!!', 'cursor=not-a-cursor', 'cursor=LTE']) {
      expect(isApiError(await admin(`/v1/users?${q}`), 400, 'bad_request'), q).toBe(true);
    }
  });
});

describe('GET /v1/users/{user}/risk and /events', () => {
  it('returns the level, version, active behaviors and their evidence', async () => {
    const r = await admin(`/v1/users/${encodeURIComponent(HIGH[0]!)}/risk`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user: HIGH[0], level: 'high', version: 1, changed_at: expect.any(String), next_expiry: expect.any(String) });
    expect(r.json.behaviors).toEqual([
      expect.objectContaining({
        id: 'endpoint_detection',
        level: 'high',
        hits: 1,
        first_at: at(0),
        expires_at: expect.any(String),
        summary: expect.any(String),
        evidence: expect.any(Object),
      }),
    ]);
  });

  it('finds an email user whatever its case', async () => {
    const r = await admin(`/v1/users/${encodeURIComponent(HIGH[0]!.toUpperCase())}/risk`);
    expect(r.status).toBe(200);
    expect(r.json.user).toBe(HIGH[0]);
  });

  it('404 JSON for an unknown user', async () => {
    expect(isApiError(await admin('/v1/users/nobody%40example.com/risk'), 404, 'not_found')).toBe(true);
    expect(isApiError(await admin('/v1/users/nobody%40example.com/events'), 404, 'not_found')).toBe(true);
  });

  it("lists the user's risk events newest first, paged by cursor", async () => {
    const all = await admin(`/v1/users/${encodeURIComponent(HIGH[1]!)}/events`);
    expect(all.status).toBe(200);
    const kinds = (all.json.events as Array<{ kind: string }>).map((e) => e.kind).sort();
    expect(kinds).toEqual(['change', 'hit']);
    const first = await admin(`/v1/users/${encodeURIComponent(HIGH[1]!)}/events?limit=1`);
    expect(first.json.events).toHaveLength(1);
    expect(first.json.next_cursor).toEqual(expect.stringMatching(/^\d+-\d+$/));
    const second = await admin(`/v1/users/${encodeURIComponent(HIGH[1]!)}/events?limit=1&cursor=${first.json.next_cursor}`);
    expect(second.json.events).toHaveLength(1);
    expect(second.json.events[0].id).not.toBe(first.json.events[0].id);
    expect([first.json.events[0].id, second.json.events[0].id]).toEqual((all.json.events as Array<{ id: string }>).map((e) => e.id));
  });

  it('the last page has no cursor, also when it is full (found by a black-box review: it sent one to an empty page)', async () => {
    const path = `/v1/users/${encodeURIComponent(HIGH[1]!)}/events`;
    const whole = await admin(`${path}?limit=2`); // exactly the user's two events
    expect(whole.json.events).toHaveLength(2);
    expect(whole.json.next_cursor).toBeNull();
    const first = await admin(`${path}?limit=1`);
    const last = await admin(`${path}?limit=1&cursor=${first.json.next_cursor}`);
    expect(last.json.events).toHaveLength(1);
    expect(last.json.next_cursor).toBeNull();
  });

  it('400 on a bad limit or cursor', async () => {
    for (const q of ['limit=0', 'limit=x', 'cursor=abc', 'cursor=1-2-3', 'cursor=1-18446744073709551616', 'cursor=18446744073709551616-0']) {
      expect(isApiError(await admin(`/v1/users/${encodeURIComponent(HIGH[1]!)}/events?${q}`), 400, 'bad_request'), q).toBe(true);
    }
    // 0-0: nothing is before it, an empty last page (it was a 500: Redis refuses the interval).
    for (const q of ['cursor=0-0', 'cursor=00-0'])
      expect((await admin(`/v1/users/${encodeURIComponent(HIGH[1]!)}/events?${q}`)).json, q).toEqual({ events: [], next_cursor: null });
  });
});

describe('POST /v1/users/{user}/risk/reset', () => {
  it('lowers the level, audits risk.reset and sends a SET with initiating_entity admin', async () => {
    const user = HIGH[2]!;
    const before = receiver.received.length;
    const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'false positive: lab machine' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user, previous_level: 'high', level: 'low', version: 2, change_id: expect.any(String) });

    const risk = await riskOf(user);
    expect(risk).toMatchObject({ level: 'low', version: 2, behaviors: [] });
    expect((await admin('/v1/users?level=high&limit=1000')).json.users.map((u: { user: string }) => u.user)).not.toContain(user);

    const audit = await admin('/v1/audit?action=risk.reset');
    const entry = (audit.json.entries as Array<{ target: string }>).find((e) => e.target === user);
    expect(entry).toMatchObject({
      action: 'risk.reset',
      target: user,
      actor: expect.stringMatching(/^token:[0-9a-f]{8}$/),
      details: { previous: 'high', version: 2, reason: 'false positive: lab machine' },
    });
    expect(JSON.stringify(entry)).not.toContain(w.cfg.adminToken);

    const set = await waitFor(() => receiver.received.slice(before).find((s) => (s.claims.sub_id as { email?: string }).email === user), {
      what: 'the reset SET',
    });
    expect(set.verified).toBe(true);
    const ev = eventOf(set);
    expect(ev.type).toBe('https://schemas.openid.net/secevent/caep/event-type/risk-level-change');
    expect(ev.body).toMatchObject({
      current_level: 'LOW',
      previous_level: 'HIGH',
      initiating_entity: 'admin',
      reason_admin: { en: 'false positive: lab machine' },
    });
  });

  it('without a body; a second reset changes nothing', async () => {
    const user = HIGH[3]!;
    const first = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ previous_level: 'high', level: 'low', version: 2 });
    const again = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ previous_level: 'low', level: 'low', version: 2, change_id: null });
  });

  it('JSON sent without saying so is read as JSON: no Content-Type, text/plain (fetch), a form type (curl -d), a +json type', async () => {
    const user = LOW[0]!;
    const cases: Array<[string, string | undefined]> = [
      ['no type', undefined],
      ['text/plain', 'text/plain;charset=UTF-8'],
      ['form', 'application/x-www-form-urlencoded'],
      ['+json', 'application/merge-patch+json'],
    ];
    for (const [name, type] of cases) {
      const reason = `lenient body: ${name}`;
      const body = JSON.stringify({ reason });
      // A Buffer body: fetch sends it with no Content-Type of its own.
      const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, {
        method: 'POST',
        body: type === undefined ? Buffer.from(body) : body,
        headers: type === undefined ? {} : { 'content-type': type },
      });
      expect(r.status, name).toBe(200);
      const audit = await admin('/v1/audit?action=risk.reset&limit=1000');
      expect(
        (audit.json.entries as Array<{ target: string; details: { reason?: string } }>).some((e) => e.target === user && e.details.reason === reason),
        name,
      ).toBe(true);
    }
    expect((await riskOf(user)).level).toBe('low');
  });

  it('404 for an unknown user', async () => {
    expect(isApiError(await admin('/v1/users/ghost%40example.com/risk/reset', { method: 'POST' }), 404, 'not_found')).toBe(true);
  });

  it('a JSON Content-Type with no body is no body (clients that always send it), here and on DELETE /v1/sessions/{id}', async () => {
    const user = MEDIUM[2]!;
    const jsonType = { 'content-type': 'application/json' };
    const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST', headers: jsonType });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user, previous_level: 'medium', level: 'low' });
    const blank = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST', body: ' \n', headers: jsonType });
    expect(blank.status).toBe(200);
    expect(isApiError(await admin('/v1/sessions/no-such-session', { method: 'DELETE', headers: jsonType }), 404, 'not_found')).toBe(true);
  });

  it('400 for a reason that is not a string or is too long, a body that is not an object: nothing reset', async () => {
    const user = HIGH[4]!;
    const json = { 'content-type': 'application/json' };
    for (const [body, headers] of [
      ['{"reason":5}', json],
      ['[1]', json],
      [JSON.stringify({ reason: 'x'.repeat(501) }), json],
    ] as const) {
      expect(isApiError(await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST', body, headers }), 400, 'bad_request'), body).toBe(
        true,
      );
    }
    // A type no client uses for JSON is refused (the body never reaches the route as text); a body
    // that is not JSON under a lenient type (text/plain, a form type) is a 400.
    const xml = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, {
      method: 'POST',
      body: '<reset reason="x"/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(isApiError(xml, 415, 'unsupported_media_type')).toBe(true);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const form = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, { method: 'POST', body: 'reason=x', headers: { 'content-type': type } });
      expect(isApiError(form, 400, 'bad_request'), type).toBe(true);
      // Its own words, not the JSON parser's (which named application/json, a type not sent).
      expect(form.json.message).toBe('the body is not valid JSON');
    }
    // Without a body a text/plain type is no body, as for JSON (a client that sets a type on every request).
    expect(isApiError(await admin('/v1/sessions/no-such-session', { method: 'DELETE', headers: { 'content-type': 'text/plain' } }), 404, 'not_found')).toBe(
      true,
    );
    expect((await riskOf(user)).level).toBe('high');
  });

  it('a reason of 500 characters counts characters, not UTF-16 units: 500 emoji are taken whole (audited and in the change)', async () => {
    const user = MEDIUM[0]!;
    const reason = '😀'.repeat(500);
    const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, {
      method: 'POST',
      body: JSON.stringify({ reason }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user, level: 'low' });
    const audit = (await admin('/v1/audit?action=risk.reset&limit=1000')).json.entries as Array<{ target: string; details: { reason: string } }>;
    expect(audit.find((e) => e.target === user)?.details.reason).toBe(reason);
    const over = await admin(`/v1/users/${encodeURIComponent(MEDIUM[1]!)}/risk/reset`, {
      method: 'POST',
      body: JSON.stringify({ reason: '😀'.repeat(501) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(isApiError(over, 400, 'bad_request')).toBe(true);
  });

  it('a blank reason is no reason: the SET says the default, the audit entry records none (found by a black-box review)', async () => {
    const user = MEDIUM[1]!;
    const r = await admin(`/v1/users/${encodeURIComponent(user)}/risk/reset`, {
      method: 'POST',
      body: JSON.stringify({ reason: '  \t ' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    const set = await waitFor(
      () => receiver.received.find((s) => (s.claims.sub_id as { email?: string }).email === user && eventOf(s).body.current_level === 'LOW'),
      {
        what: 'the reset SET',
      },
    );
    expect(eventOf(set).body).toMatchObject({ initiating_entity: 'admin', risk_reason: 'risk reset by an administrator' });
    const audit = (await admin('/v1/audit?action=risk.reset&limit=1000')).json.entries as Array<{ target: string; details: { reason: string } }>;
    expect(audit.find((e) => e.target === user)?.details.reason).toBe('');
  });

  it('the audit log filtered by action: a name or a group (set, set. and set.* alike)', async () => {
    const group = (await admin('/v1/audit?action=risk&limit=1000')).json.entries as Array<{ action: string }>;
    expect(group.length).toBeGreaterThan(0);
    expect(new Set(group.map((e) => e.action.split('.')[0]))).toEqual(new Set(['risk']));
    for (const q of ['risk.', 'risk.*']) expect((await admin(`/v1/audit?action=${q}&limit=1000`)).json.entries).toEqual(group);
    const exact = (await admin('/v1/audit?action=risk.reset&limit=1000')).json.entries as Array<{ action: string }>;
    expect(exact.length).toBeGreaterThan(0);
    expect(exact.every((e) => e.action === 'risk.reset')).toBe(true);
  });

  it('limit is read alike everywhere: decimal digits in range; empty is the default', async () => {
    for (const path of ['/v1/users', '/v1/audit', '/v1/sessions', `/v1/users/${encodeURIComponent(HIGH[1]!)}/events`]) {
      for (const bad of ['0x10', '1e2', '+5', '0', '-1', '1.5', 'x']) {
        expect(isApiError(await admin(`${path}?limit=${encodeURIComponent(bad)}`), 400, 'bad_request'), `${path} ${bad}`).toBe(true);
      }
      expect((await admin(`${path}?limit=`)).status, path).toBe(200);
      if (path === '/v1/users') {
        expect((await admin('/v1/users?level=')).status).toBe(200); // empty: no filter, as for limit
        expect(isApiError(await admin('/v1/users?level=severe'), 400, 'bad_request')).toBe(true);
      }
      expect((await admin(`${path}?limit=3`)).status, path).toBe(200);
    }
  });

  it('a user id longer than 1 024 characters is named as such', async () => {
    const r = await admin(`/v1/users/${'k'.repeat(1025)}/risk`);
    expect(isApiError(r, 400, 'bad_request')).toBe(true);
    expect(r.json.message).toContain('longer than 1024');
  });

  it('400 for a body that is not JSON', async () => {
    expect(
      isApiError(
        await admin(`/v1/users/${encodeURIComponent(HIGH[4]!)}/risk/reset`, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } }),
        400,
      ),
    ).toBe(true);
    expect((await riskOf(HIGH[4]!)).level).toBe('high');
  });
});

describe('POST /v1/events', () => {
  it('202 with counts; a bad record is rejected with its index and dead-lettered', async () => {
    const good = { type: 'access', user: 'api-events@example.com', time: at(1), outcome: 'denied', app: 'payroll' };
    const body = [JSON.stringify(good), JSON.stringify({ type: 'access', time: at(1) }), '{oops'].join('\n');
    const r = await call(w.url, '/v1/events', { method: 'POST', token: w.cfg.ingestToken, body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 2 });
    expect((r.json.errors as Array<{ index: number }>).map((e) => e.index)).toEqual([1, 2]);
    const dead = await redis.xrange(`${prefix}:dead-letter`, '-', '+');
    expect(dead.length).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await admin('/v1/users/api-events%40example.com/risk')).status === 200, { what: 'the accepted event processed' });
  });

  it('400 JSON for an empty body or a broken array; 415 for msgpack or an unknown encoding', async () => {
    const post = (body: string, headers: Record<string, string>) => call(w.url, '/v1/events', { method: 'POST', token: w.cfg.ingestToken, body, headers });
    expect(isApiError(await post('', { 'content-type': 'application/json' }), 400)).toBe(true);
    expect(isApiError(await post('[{"type":"login"', { 'content-type': 'application/json' }), 400)).toBe(true);
    expect(isApiError(await post('x', { 'content-type': 'application/msgpack' }), 415, 'unsupported_media_type')).toBe(true);
    expect(isApiError(await post('{}', { 'content-type': 'application/json', 'content-encoding': 'zstd' }), 415, 'unsupported_media_type')).toBe(true);
  });
});

describe('GET /v1/audit', () => {
  it('pages newest first with the cursor', async () => {
    const all = await admin('/v1/audit?limit=1000');
    expect(all.status).toBe(200);
    const ids = (all.json.entries as Array<{ id: string; time: string; action: string }>).map((e) => e.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const e of all.json.entries) {
      expect(e).toMatchObject({ id: expect.stringMatching(/^\d+-\d+$/), action: expect.any(String), actor: expect.any(String), details: expect.any(Object) });
      expect(new Date(e.time).toISOString()).toBe(e.time);
    }
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      // The first page with an empty cursor, as a pager that always sends `cursor=` does.
      const r = await admin(`/v1/audit?limit=1&cursor=${cursor ?? ''}`);
      expect(r.status).toBe(200);
      walked.push(...(r.json.entries as Array<{ id: string }>).map((e) => e.id));
      cursor = r.json.next_cursor;
    } while (cursor && walked.length <= ids.length);
    expect(walked).toEqual(ids);
  });

  it('400 on a bad cursor or limit', async () => {
    for (const q of ['cursor=abc', 'cursor=1-', 'limit=0', 'limit=1001', 'limit=ten', 'cursor=18446744073709551616-0']) {
      expect(isApiError(await admin(`/v1/audit?${q}`), 400, 'bad_request'), q).toBe(true);
    }
    expect((await admin('/v1/audit?cursor=0-0')).json).toEqual({ entries: [], next_cursor: null });
  });

  it('the page that ends on the oldest entry has no cursor, also when it is full (found by a black-box review)', async () => {
    const ids = ((await admin('/v1/audit?limit=1000')).json.entries as Array<{ id: string }>).map((e) => e.id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    // From the third-oldest entry, the two older ones: a full page of 2, the log's start.
    const last = await admin(`/v1/audit?limit=2&cursor=${ids[ids.length - 3]}`);
    expect((last.json.entries as Array<{ id: string }>).map((e) => e.id)).toEqual(ids.slice(-2));
    expect(last.json.next_cursor).toBeNull();
  });
});
