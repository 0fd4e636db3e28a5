/**
 * One clock (issue 19), through a real in-process worker, real Redis and a real receiver:
 * behaviors expire from when they happened; every time shown names its clock (`occurred_at`,
 * `processed_at`); the SET's `event_timestamp` is the moment the level changed; riskstream's own
 * level changes are in the audit log; `GET /v1/whoami` names the caller's token fingerprint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, MIN, ago } from '../helpers/clock.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type ReceivedSet, type TestReceiver } from '../helpers/receiver.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-clock');
const redis = redisClient();
let receiver: TestReceiver;
let w: ApiWorker;

const admin = (path: string, opts: Parameters<typeof call>[2] = {}) => call(w.url, path, { token: w.cfg.adminToken, ...opts });
const enc = encodeURIComponent;
const setsFor = (user: string): ReceivedSet[] => receiver.received.filter((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === user);

/** London, then Sydney two hours later (an impossible trip), the second login at `tripAt`. */
async function trip(user: string, tripAt: number): Promise<void> {
  const iso = (t: number): string => new Date(t).toISOString();
  await redis.xadd(
    `${prefix}:login`,
    '*',
    'event',
    JSON.stringify({
      type: 'login',
      id: `${user}-1`,
      user,
      time: iso(tripAt - 2 * HOUR),
      outcome: 'success',
      ip: '81.2.69.142',
      geo: { lat: 51.5, lon: -0.12, city: 'London' },
    }),
  );
  await redis.xadd(
    `${prefix}:login`,
    '*',
    'event',
    JSON.stringify({
      type: 'login',
      id: `${user}-2`,
      user,
      time: iso(tripAt),
      outcome: 'success',
      ip: '1.128.0.1',
      geo: { lat: -33.87, lon: 151.21, city: 'Sydney' },
    }),
  );
}

type Row = Record<string, unknown> & { kind: string };
async function eventsOf(user: string): Promise<Row[]> {
  const r = await admin(`/v1/users/${enc(user)}/events`);
  return r.status === 200 ? (r.json as { events: Row[] }).events : [];
}

beforeAll(async () => {
  receiver = await startReceiver({ audience: 'https://receiver.test', issuer: 'https://riskstream.test' });
  w = await startApiWorker(prefix, {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://receiver.test', subject_format: 'email' }],
  });
  receiver.setJwks(`${w.url}/.well-known/jwks.json`);
}, 30_000);

afterAll(async () => {
  await w?.close();
  await receiver?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('expiry counts from event time', () => {
  it('a backfill (a trip three days old, expires_after 24h) is recorded as expired on arrival: no level, no SET', async () => {
    const user = 'backfill@example.com';
    const tripAt = Math.floor(ago(72 * HOUR) / 1000) * 1000;
    await trip(user, tripAt);
    const hit = await waitFor(async () => (await eventsOf(user)).find((e) => e.kind === 'hit'), { what: 'the backfilled hit' });
    expect(hit).toMatchObject({
      behavior: 'impossible_travel',
      occurred_at: new Date(tripAt).toISOString(),
      expires_at: new Date(tripAt + 24 * HOUR).toISOString(),
      expired_on_arrival: true,
    });
    expect(Date.parse(String(hit.processed_at))).toBeGreaterThan(tripAt + 24 * HOUR);
    expect((await eventsOf(user)).filter((e) => e.kind === 'change')).toEqual([]);
    const risk = (await admin(`/v1/users/${enc(user)}/risk`)).json as { level: string; version: number; behaviors: unknown[]; next_expiry: string | null };
    expect(risk).toMatchObject({ level: 'low', version: 0, behaviors: [], next_expiry: null });
    // A live detection queued after it reaches the receiver; the backfill never sent anything.
    const live = 'live-after-backfill@example.com';
    await redis.xadd(
      `${prefix}:activity`,
      '*',
      'event',
      JSON.stringify({
        type: 'endpoint',
        user: live,
        time: ago(MIN),
        device: { id: 'd-1' },
        vendor: 'crowdstrike',
        detection: 'malware',
        severity: 'critical',
      }),
    );
    await waitFor(() => setsFor(live).length > 0, { what: 'the live SET' });
    expect(setsFor(user)).toEqual([]);
    const metrics = await call(w.url, '/metrics', { token: w.cfg.adminToken });
    expect(metrics.text).toMatch(/^riskstream_hits_expired_on_arrival_total\{behavior="impossible_travel"\} 1$/m);
  });

  it('a late event inside the window (a trip 20 h old): HIGH until event time + 24 h; the SET event_timestamp is when the level changed', async () => {
    const user = 'late@example.com';
    const tripAt = Math.floor(ago(20 * HOUR) / 1000) * 1000;
    await trip(user, tripAt);
    const set = await waitFor(() => setsFor(user)[0], { what: 'the SET' });
    const risk = (await admin(`/v1/users/${enc(user)}/risk`)).json as {
      level: string;
      changed_at: string;
      next_expiry: string;
      behaviors: Array<{ id: string; expires_at: string }>;
    };
    const until = new Date(tripAt + 24 * HOUR).toISOString();
    expect(risk.level).toBe('high');
    expect(risk.next_expiry).toBe(until);
    expect(risk.behaviors).toEqual([expect.objectContaining({ id: 'impossible_travel', expires_at: until })]);
    const rows = await eventsOf(user);
    const hit = rows.find((e) => e.kind === 'hit')!;
    const change = rows.find((e) => e.kind === 'change')!;
    expect(hit).toMatchObject({ occurred_at: new Date(tripAt).toISOString(), expires_at: until, expired_on_arrival: false });
    expect(change).toMatchObject({ previous: 'low', current: 'high', occurred_at: new Date(tripAt).toISOString(), processed_at: risk.changed_at });
    expect(Date.parse(String(hit.processed_at))).toBeGreaterThan(tripAt + 19 * HOUR);
    // event_timestamp: the moment the level changed (processing time), not the login's time.
    const body = eventOf(set).body as { event_timestamp: number; current_level: string };
    expect(body.current_level).toBe('HIGH');
    expect(body.event_timestamp).toBe(Math.floor(Date.parse(risk.changed_at) / 1000));
    expect(body.event_timestamp).not.toBe(Math.floor(tripAt / 1000));
  });

  it('the same input replayed (new entries, another user each time) gives the same expiry times', async () => {
    const tripAt = Math.floor(ago(3 * HOUR) / 1000) * 1000;
    const expiries: string[] = [];
    for (const user of ['replay-a@example.com', 'replay-b@example.com']) {
      await trip(user, tripAt);
      const hit = await waitFor(async () => (await eventsOf(user)).find((e) => e.kind === 'hit'), { what: `${user} hit` });
      const risk = (await admin(`/v1/users/${enc(user)}/risk`)).json as { next_expiry: string };
      expiries.push(`${String(hit.expires_at)}|${risk.next_expiry}`);
    }
    const until = new Date(tripAt + 24 * HOUR).toISOString();
    expect(expiries).toEqual([`${until}|${until}`, `${until}|${until}`]);
  });
});

/** An audit entry as GET /v1/audit answers it (the fields read here). */
interface AuditRow {
  action: string;
  actor: string;
  target: string;
  details: { [k: string]: unknown; occurred_at: string; processed_at: string; level: string };
}

describe('audit log and whoami', () => {
  it("riskstream's own level change is audited as risk.level_changed (actor system); a reset row shows the new level; whoami names the caller", async () => {
    const user = 'audited@example.com';
    await trip(user, ago(30 * MIN));
    await waitFor(() => setsFor(user).length > 0, { what: 'the SET' });
    const changed = await waitFor(
      async () => {
        const r = await admin('/v1/audit?action=risk.level_changed&limit=1000');
        return (r.json as { entries: AuditRow[] }).entries.find((e) => e.target === user);
      },
      { what: 'risk.level_changed' },
    );
    expect(changed).toMatchObject({ action: 'risk.level_changed', actor: 'system', target: user, details: { previous: 'low', level: 'high', version: 1 } });
    expect(Date.parse(changed.details.occurred_at)).toBeLessThan(Date.parse(changed.details.processed_at));

    const reset = await admin(`/v1/users/${enc(user)}/risk/reset`, {
      method: 'POST',
      // The admin's own token pasted in (not token-shaped: found by value).
      body: JSON.stringify({ reason: `known trip ${w.cfg.adminToken}` }),
      headers: { 'content-type': 'application/json' },
    });
    expect(reset.status).toBe(200);
    // The reset answers once its audit entry is in the audit log (the relay writes the entry, then the outcome).
    const entries = ((await admin('/v1/audit?action=risk.reset')).json as { entries: AuditRow[] }).entries;
    const row = entries.find((e) => e.target === user)!;
    expect(row.details).toMatchObject({
      previous: 'high',
      level: 'low',
      version: 2,
      reason: 'known trip [redacted token]',
    });
    // An admin's reset is audited once, as risk.reset, not also as risk.level_changed.
    await waitFor(() => setsFor(user).length > 1, { what: 'the reset SET' });
    const all = ((await admin('/v1/audit?action=risk.level_changed&limit=1000')).json as { entries: AuditRow[] }).entries;
    expect(all.filter((e) => e.target === user).map((e) => e.details.level)).toEqual(['high']);

    const me = await admin('/v1/whoami');
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ actor: expect.stringMatching(/^token:[0-9a-f]{8}$/), scope: 'admin' });
    expect(me.json.actor).toBe(row.actor);
    expect(me.text).not.toContain(w.cfg.adminToken);
  });

  it('whoami needs a token: 401 without, 403 for an ingest token', async () => {
    isApiError(await call(w.url, '/v1/whoami'), 401);
    isApiError(await call(w.url, '/v1/whoami', { token: w.cfg.ingestToken }), 403, 'forbidden');
  });
});
