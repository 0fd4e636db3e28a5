import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { call } from '../api/helpers.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';

/**
 * Issue 13 rows 8 and 13: secrets are not kept in stored session identities, dead-letter copies
 * or dead-letter reasons, nor in the debug request log; `ingest.scrub_fields` paths are dropped.
 * A real worker (in process, real Redis, real HTTP on loopback) with a debug log captured.
 */
const prefix = testPrefix('secrets-rest');
const redis = redisClient();
let cfg: TestConfig;
let worker: WorkerHandle;
let log = '';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (n: number): string => `${b64({ alg: 'RS256', kid: `k${n}` })}.${b64({ sub: `alice-${n}`, exp: 1_900_000_000 })}.c2lnLXNpZy1zaWctc2lnLXNpZy0${n}`;
const OPAQUE = 'Zk3Qp9vX2mL8rT4wYb6NcH1sJd7GfA0eKu5V';
const SECRETS = {
  accessToken: 'access-token-value-aaaa',
  sessionToken: 'session-token-value-bbbb',
  SAMLResponse: 'PHNhbWxwOlJlc3BvbnNlIHNlY3JldA',
  'refresh-token': 'refresh-token-value-cccc',
  password: 'hunter2-correct-horse',
};
const [J1, J2, J3, J4, J5] = [1, 2, 3, 4, 5].map(jwt) as [string, string, string, string, string];
const SSN = '078-05-1120';
const now = Date.now();

beforeAll(async () => {
  cfg = await writeTestConfig(prefix, { log_level: 'debug', ingest: { scrub_fields: ['session.claims.ssn', 'device.serial'] } });
  const config = loadConfig(cfg.dir, { ...process.env, RISKSTREAM_ADMIN_TOKEN: '', RISKSTREAM_INGEST_TOKEN: '' });
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (log += d.toString()));
  worker = await startWorker({ config, configPath: cfg.dir, logger: createLogger('debug', out), port: 0, host: '127.0.0.1', consumer: `${prefix}-c1` });
});

afterAll(async () => {
  await worker?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const ingest = (records: unknown[]): ReturnType<typeof call> =>
  call(worker.url, '/v1/events', {
    method: 'POST',
    token: cfg.ingestToken,
    headers: { 'content-type': 'application/x-ndjson' },
    body: records.map((r) => JSON.stringify(r)).join('\n'),
  });

describe('secrets at rest', () => {
  it('a stored session identity keeps no secret-named field, JWT (followed by ".", after %3D) or opaque token, nor a scrub_fields path', async () => {
    const login = {
      type: 'login',
      user: 'alice@example.com',
      time: new Date(now).toISOString(),
      outcome: 'success',
      ip: '81.2.69.142',
      session: {
        id: 's-rest-1',
        expires_at: new Date(now + 3_600_000).toISOString(),
        idp: 'okta',
        claims: { email: 'alice@example.com', ssn: SSN, groups: ['eng'] },
        ...SECRETS,
        note: `issued ${J1}.`,
        callback: `https://app.example.com/cb?state=x%26id_token%3D${J2}`,
        handle: `opaque ${OPAQUE} here`,
      },
      device: { id: 'd-1', serial: 'C02XK1ZZJG5H', attestation: J3 },
    };
    expect((await ingest([login])).status).toBe(202);
    const stored = await waitFor(
      async () => {
        const r = await call(worker.url, '/v1/sessions/s-rest-1', { token: cfg.adminToken });
        return r.status === 200 ? r : undefined;
      },
      { what: 'the stored session' },
    );
    const text = stored.text;
    for (const s of [...Object.values(SECRETS), J1, J2, J3, OPAQUE, SSN, 'C02XK1ZZJG5H']) expect(text, s).not.toContain(s);
    const attrs = stored.json.attributes as Record<string, unknown>;
    for (const k of Object.keys(SECRETS)) expect(attrs[k], k).toBe('[redacted]');
    expect(stored.json.claims).toEqual({ email: 'alice@example.com', groups: ['eng'] });
    expect(stored.json.device).toMatchObject({ id: 'd-1' });
    expect(stored.json.device.serial).toBeUndefined();
    // The same holds for the Redis copy itself.
    const keys = await redis.keys(`*${prefix}*session*`);
    const dump = (await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? redis.get(k) : '')))).join('\n');
    for (const s of [...Object.values(SECRETS), J1, J2, J3, OPAQUE, SSN]) expect(dump).not.toContain(s);
  });

  it('dead letters (from a stream and from POST /v1/events): the copy and the reason carry no secret or bad value', async () => {
    const bad = {
      type: 'login',
      user: 'bob@example.com',
      time: new Date(now).toISOString(),
      ip: SECRETS.password,
      password: SECRETS.password,
      token: J4,
      session: { claims: { ssn: SSN } },
    };
    await redis.xadd(`${prefix}:login`, '*', 'event', JSON.stringify(bad), 'note', `Bearer ${J5}`);
    await redis.xadd(`${prefix}:login`, '*', 'user', 'carol@example.com', 'type', 'login', 'time', 'hunter2-in-time', 'client_secret', 'cs-value-dddd');
    const http = await ingest([
      { ...bad, user: 'dave@example.com', ip: `${J5}` },
      { type: 'login', user: 'erin@example.com', time: 'x', accessToken: 'at-eeee' },
    ]);
    expect(http.status).toBe(202);
    expect(http.json).toMatchObject({ accepted: 0, rejected: 2 });
    expect(JSON.stringify(http.json)).not.toContain(J5);
    const entries = await waitFor(
      async () => {
        const e = await redis.xrange(`${prefix}:dead-letter`, '-', '+');
        return e.length >= 4 ? e : undefined;
      },
      { what: 'four dead letters' },
    );
    // The copy keeps a bad value in a plain field (`ip`, `time`: what an operator repairs), never a
    // secret-named field, a token or a scrub_fields path; the reason names the field, not the value.
    const text = JSON.stringify(entries);
    for (const s of [J4, J5, SSN, 'cs-value-dddd', 'at-eeee']) expect(text, s).not.toContain(s);
    const fields = entries.map(
      ([, f]) =>
        Object.fromEntries(f.reduce<string[][]>((acc, x, i) => (i % 2 ? acc[acc.length - 1]!.push(x) : acc.push([x]), acc), [])) as Record<string, string>,
    );
    for (const f of fields) for (const s of [SECRETS.password, 'hunter2-in-time', J5]) expect(f.reason, s).not.toContain(s);
    expect(text.split(SECRETS.password).length - 1).toBe(1); // only as the bad `ip` value of bob's copy
    const fromStream = fields.find((f) => f['orig.note'] !== undefined)!;
    expect(fromStream.reason).toMatch(/^ip: /);
    expect(JSON.parse(fromStream['orig.event']!)).toMatchObject({
      user: 'bob@example.com',
      password: '[redacted]',
      token: '[redacted]',
      session: { claims: {} },
    });
    expect(fromStream['orig.note']).toMatch(/^Bearer \[redacted jwt sha256:[0-9a-f]{64}\]$/);
    const flat = fields.find((f) => f['orig.user'] === 'carol@example.com')!;
    expect(flat['orig.client_secret']).toBe('[redacted]');
    expect(flat.reason).toMatch(/^time: /);
  });

  it('a token in an event id is kept out of the risk events and the user state (found by an outside-in audit); the same event again makes no new hit', async () => {
    const detection = (id: string): Record<string, unknown> => ({
      type: 'endpoint',
      id,
      user: 'frank@example.com',
      time: new Date(now).toISOString(),
      device: { id: 'd-1' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    });
    const ids = [`evt-${J5}`, `evt-${OPAQUE}`];
    expect((await ingest(ids.map(detection))).json).toMatchObject({ accepted: 2 });
    const url = `/v1/users/${encodeURIComponent('frank@example.com')}/events`;
    const hits = async (): Promise<unknown[]> => ((await call(worker.url, url, { token: cfg.adminToken })).json as { events: unknown[] }).events;
    await waitFor(async () => (await hits()).length >= 3, { what: 'two hits and the level change' });
    // Delivered again (the same ids: no new hit), then a new detection: applied after them, in order.
    for (const id of [...ids, 'evt-after']) await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify(detection(id)));
    const kinds = async (): Promise<string[]> => (await hits()).map((e) => (e as { kind: string }).kind);
    await waitFor(async () => (await kinds()).filter((k) => k === 'hit').length >= 3, { what: 'the third hit' });
    const events = await hits();
    expect((await kinds()).filter((k) => k === 'hit')).toHaveLength(3);
    const stored = [
      JSON.stringify(events),
      JSON.stringify(await redis.xrange(`${prefix}:risk-events`, '-', '+')),
      JSON.stringify((await call(worker.url, '/v1/users/frank@example.com/risk', { token: cfg.adminToken })).json),
    ];
    const states = await redis.keys(`${prefix}:{p*}:state`);
    for (const k of states) stored.push(((await redis.hgetallBuffer(k)) as Record<string, Buffer>)['frank@example.com']?.toString('latin1') ?? '');
    for (const text of stored) for (const s of [J5, OPAQUE]) expect(text, s).not.toContain(s);
  });

  it('the debug request log carries no JWT or opaque token from the path, nor the query', async () => {
    for (const p of [`/v1/sessions/${J1}`, `/v1/sessions/${encodeURIComponent(`x=${J2}`)}`, `/v1/sessions/${OPAQUE}?token=${J3}`]) {
      expect((await call(worker.url, p, { token: cfg.adminToken })).status).toBe(404);
    }
    await waitFor(() => (log.match(/"msg":"http"/g) ?? []).length >= 3, { what: 'http log lines' });
    expect(log).toContain('/v1/sessions/[redacted jwt sha256:');
    for (const s of [J1, J2, J3, OPAQUE, ...Object.values(SECRETS), cfg.adminToken, cfg.ingestToken]) expect(log, s).not.toContain(s);
  });
});
