import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

/**
 * POST /v1/events with bodies shaped exactly as the shippers of docs/shippers.md send them,
 * against a real worker process: accepted records are processed (risk levels change), bad ones
 * land in the dead-letter stream.
 */
const prefix = testPrefix('e2e-ingest');
const redis = redisClient();
let cfg: TestConfig;
let worker: WorkerProcess;

beforeAll(async () => {
  // A generic profile for ?profile= (no stream maps it: the records of the other tests are detected as before).
  cfg = await writeTestConfig(prefix, { mapping: { generic: { vpn: { type: 'kind', user: 'username', time: 'ts', outcome: 'res', ip: 'src_ip' } } } });
  worker = await spawnWorker(cfg.dir);
}, 40_000);

afterAll(async () => {
  await worker?.stop();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const base = Date.now();
const iso = (offsetMin: number): string => new Date(base + offsetMin * 60_000).toISOString();

/** What a shipper sends: body bytes and headers (Authorization added here). */
async function ship(
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; json: { accepted: number; rejected: number; errors: Array<{ index: number; reason: string }> } }> {
  const res = await fetch(`${worker.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${cfg.ingestToken}`, ...headers }, body });
  return { status: res.status, json: (await res.json()) as never };
}

async function levelOf(user: string): Promise<string | undefined> {
  const res = await fetch(`${worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return res.status === 200 ? ((await res.json()) as { level: string }).level : undefined;
}

async function riskOf(user: string): Promise<{ level: string; behaviors: Array<{ id: string; first_at: string; last_at: string }> }> {
  const res = await fetch(`${worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

const london = (user: string, min: number) => ({
  type: 'login',
  id: `${user}-l1`,
  user,
  time: iso(min),
  outcome: 'success',
  ip: '81.2.69.142',
  geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London' },
});
const sydney = (user: string, min: number) => ({
  type: 'login',
  id: `${user}-l2`,
  user,
  time: iso(min),
  outcome: 'success',
  ip: '1.128.0.1',
  geo: { lat: -33.87, lon: 151.21, accuracy_km: 20, country: 'AU', city: 'Sydney' },
});
const dlp = (user: string, min: number) => ({ type: 'dlp', user, time: iso(min), profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' });

/** Vector's file source: the line in `message`, plus its own fields. */
const vectorFileEvent = (event: unknown, n: number) => ({
  file: '/var/log/idp/events.json',
  host: 'shipper-1',
  message: typeof event === 'string' ? event : JSON.stringify(event),
  source_type: 'file',
  timestamp: new Date(base + n).toISOString().replace('Z', '123456Z'),
});

async function deadLetters(): Promise<Array<Record<string, string>>> {
  const rows = await redis.xrange(`${prefix}:dead-letter`, '-', '+');
  return rows.map(([, f]) => {
    const m: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
    return m;
  });
}

describe('Vector http sink', () => {
  it('codec json + framing newline_delimited, gzip: NDJSON of file-source events; bad lines dead-lettered', async () => {
    const user = 'vector-ndjson@example.com';
    const lines = [
      JSON.stringify(vectorFileEvent(london(user, 0), 1)),
      JSON.stringify(vectorFileEvent({ type: 'login', time: iso(1), outcome: 'success' }, 2)), // no user
      JSON.stringify(vectorFileEvent(sydney(user, 120), 3)),
    ];
    const body = `${lines.join('\n')}\n{"file":"/var/log/idp/events.json","message":"{\\"type\\":"\n`; // a torn last line
    const r = await ship(gzipSync(body), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'user-agent': 'Vector/0.49.0' });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 2, rejected: 2 });
    expect(r.json.errors.map((e) => e.index)).toEqual([1, 3]);
    expect(r.json.errors[0]!.reason).toMatch(/user/);

    await waitFor(async () => (await levelOf(user)) === 'high', { what: 'impossible travel from Vector NDJSON' });
    expect((await riskOf(user)).behaviors.map((b) => b.id)).toEqual(['impossible_travel']);

    const dead = await waitFor(
      async () => {
        const d = await deadLetters();
        return d.length >= 2 ? d : undefined;
      },
      { what: 'dead letters' },
    );
    const ours = dead.filter((d) => d.source_stream === 'http:/v1/events');
    expect(ours).toHaveLength(2);
    expect(ours[0]!.reason).toMatch(/user/);
    expect(ours[0]!['orig.event']).toContain('"source_type":"file"');
    expect(ours[1]!.reason).toMatch(/invalid JSON/);
  });

  it('codec json without framing (a JSON array), after a remap of the bare event', async () => {
    const user = 'vector-array@example.com';
    const body = JSON.stringify([dlp(user, 0), { ...dlp('vector-array-2@example.com', 1), severity: 'low' }]);
    const r = await ship(body, { 'content-type': 'application/json', 'user-agent': 'Vector/0.49.0' });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 2, rejected: 0 });
    await waitFor(async () => (await levelOf(user)) === 'medium', { what: 'DLP from a Vector JSON array' });
    await waitFor(async () => (await levelOf('vector-array-2@example.com')) === 'low', { what: 'a low-severity DLP: tracked, still low' });
  });

  it('a JSON array, gzip', async () => {
    const user = 'vector-array-gz@example.com';
    const r = await ship(gzipSync(JSON.stringify([vectorFileEvent(dlp(user, 0), 1)])), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.json).toMatchObject({ accepted: 1, rejected: 0 });
    await waitFor(async () => (await levelOf(user)) === 'medium', { what: 'DLP from gzip JSON array' });
  });
});

describe('Fluent Bit http output', () => {
  it('format json_lines, tail without a parser (line in `log`), json_date_format double, gzip', async () => {
    const user = 'fluentbit-lines@example.com';
    const date = (min: number): number => (base + min * 60_000) / 1000 + 0.123456;
    const records = [
      {
        date: date(0),
        log: JSON.stringify({ type: 'endpoint', user, time: iso(0), device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }),
      },
      { date: date(1), log: 'plain text, not an event' },
    ];
    const body = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    const r = await ship(gzipSync(body), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'user-agent': 'Fluent-Bit' });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 1 });
    await waitFor(async () => (await levelOf(user)) === 'high', { what: 'endpoint detection from Fluent Bit json_lines' });
    const dead = (await deadLetters()).filter((d) => (d['orig.event'] ?? '').includes('plain text'));
    expect(dead).toHaveLength(1);
  });

  it('format json_lines with a json parser and json_date_format iso8601: `date` is the time when the event has none', async () => {
    const user = 'fluentbit-iso@example.com';
    const date = new Date(base + 5 * 60_000).toISOString().replace('Z', '456Z'); // microseconds, as Fluent Bit writes them
    const body = `${JSON.stringify({ date, type: 'dlp', user, profile: 'credit-cards', severity: 'critical', action: 'block', app: 'drive' })}\n`;
    const r = await ship(body, { 'content-type': 'application/x-ndjson' });
    expect(r.json).toMatchObject({ accepted: 1, rejected: 0 });
    await waitFor(async () => (await levelOf(user)) === 'medium', { what: 'DLP from Fluent Bit json_lines' });
    expect((await riskOf(user)).behaviors[0]!.first_at).toBe(new Date(base + 5 * 60_000).toISOString());
  });

  it('format json (a JSON array of records with `date`, epoch seconds), gzip', async () => {
    const user = 'fluentbit-json@example.com';
    const records = [
      { date: (base + 10 * 60_000) / 1000, type: 'endpoint', user, device: { id: 'd-2' }, vendor: 'sentinelone', detection: 'ransomware', severity: 'high' },
      { date: (base + 11 * 60_000) / 1000, type: 'endpoint', device: { id: 'd-2' }, severity: 'high' }, // no user
    ];
    const r = await ship(gzipSync(JSON.stringify(records)), { 'content-type': 'application/json', 'content-encoding': 'gzip', 'user-agent': 'Fluent-Bit' });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 1 });
    await waitFor(async () => (await levelOf(user)) === 'high', { what: 'endpoint detection from Fluent Bit json' });
    expect((await riskOf(user)).behaviors[0]!.first_at).toBe(new Date(base + 10 * 60_000).toISOString());
  });

  it('format json_stream (records back to back, no separator), gzip: each record its own (was one record, refused whole)', async () => {
    const user = 'fluentbit-stream@example.com';
    const date = (min: number): number => (base + min * 60_000) / 1000;
    const records = [
      { date: date(12), type: 'endpoint', user, device: { id: 'd-3' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' },
      { date: date(13), type: 'dlp', user, profile: 'credit-cards', severity: 'critical', action: 'block', app: 'drive' },
      { date: date(14), type: 'dlp', severity: 'high' }, // no user
    ];
    const body = records.map((r) => JSON.stringify(r)).join('');
    const r = await ship(gzipSync(body), { 'content-type': 'application/json', 'content-encoding': 'gzip', 'user-agent': 'Fluent-Bit' });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 2, rejected: 1, errors: [{ index: 2, reason: 'user: required' }] });
    await waitFor(async () => (await levelOf(user)) === 'high', { what: 'endpoint detection from Fluent Bit json_stream' });
    const dead = (await deadLetters()).filter((d) => d['orig.event'] === JSON.stringify(records[2]));
    expect(dead).toHaveLength(1);
  });
});

describe('afterwards', () => {
  it('every accepted event was processed and acked; the counts add up', async () => {
    for (const s of ['login', 'activity']) {
      await waitFor(async () => ((await redis.xpending(`${prefix}:${s}`, 'riskstream')) as [number])[0] === 0, { what: `nothing pending on ${s}` });
    }
    const logins = await redis.xlen(`${prefix}:login`);
    const activity = await redis.xlen(`${prefix}:activity`);
    expect(logins).toBe(2);
    expect(activity).toBe(8);
    const dead = (await deadLetters()).filter((d) => d.source_stream === 'http:/v1/events');
    expect(dead).toHaveLength(5);
    for (const d of dead) expect(d.reason).toEqual(expect.any(String));
    // Counted as dead letters too, as the router's are (found by a black-box review: only http_ingested counted them).
    const metrics = await (await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
    expect(metrics).toMatch(/riskstream_events_dead_lettered_total\{stream="http:\/v1\/events"\} 5\b/);
  });
});

describe('?profile=: every record of the body mapped with a named profile', () => {
  it('generic:vpn maps the vendor fields; an unknown profile is a 400 and appends nothing', async () => {
    const before = await redis.xlen(`${prefix}:login`);
    const rec = { kind: 'login', username: 'VPN-User@Example.com', ts: iso(30), res: 'ok', src_ip: '81.2.69.142' };
    const bad = await fetch(`${worker.url}/v1/events?profile=generic:nope`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify(rec),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('bad_request');
    // Without the profile the record has no user: rejected.
    expect((await ship(JSON.stringify(rec), { 'content-type': 'application/x-ndjson' })).json).toMatchObject({ accepted: 0, rejected: 1 });
    const res = await fetch(`${worker.url}/v1/events?profile=generic:vpn`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify(rec),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 1, rejected: 0 });
    const entries = await redis.xrange(`${prefix}:login`, '-', '+');
    expect(entries.length).toBe(before + 1);
    const fields = entries[entries.length - 1]![1];
    const event = JSON.parse(fields[fields.indexOf('event') + 1]!) as Record<string, unknown>;
    expect(event).toMatchObject({ type: 'login', user: 'vpn-user@example.com', outcome: 'success', ip: '81.2.69.142', time: Date.parse(iso(30)) });
  });
});

describe('Azure Monitor messages batched by an Event Hub consumer', () => {
  it('NDJSON of `{"records":[…]}` messages (and an array of them): each sign-in is an event (a body of two messages was refused whole)', async () => {
    const signIn = (user: string, min: number, ip: string, place: Record<string, unknown>) => ({
      time: iso(min),
      category: 'SignInLogs',
      operationName: 'Sign-in activity',
      properties: { id: `${user}-${min}`, createdDateTime: iso(min), userPrincipalName: user, ipAddress: ip, status: { errorCode: 0 }, location: place },
    });
    const london = { city: 'London', countryOrRegion: 'GB', geoCoordinates: { latitude: 51.5, longitude: -0.12 } };
    const sydney = { city: 'Sydney', countryOrRegion: 'AU', geoCoordinates: { latitude: -33.87, longitude: 151.21 } };
    for (const [user, frame] of [
      ['eventhub-ndjson@example.com', (m: unknown[]) => m.map((x) => JSON.stringify(x)).join('\n')],
      ['eventhub-array@example.com', (m: unknown[]) => JSON.stringify(m)],
    ] as const) {
      const messages = [{ records: [signIn(user, 40, '81.2.69.142', london)] }, { records: [signIn(user, 45, '1.128.0.1', sydney)] }];
      const r = await ship(frame(messages), { 'content-type': 'application/x-ndjson' });
      expect(r.json).toEqual({ accepted: 2, rejected: 0, errors: [] });
      await waitFor(async () => (await levelOf(user)) === 'high', { what: `impossible travel of ${user}` });
    }
  });
});

describe("a script's pages of an API appended to one file: JSON arrays one after another", () => {
  it('one array per line, and a line of NDJSON among them: each array element is an event (the body was refused 400 whole)', async () => {
    const user = 'pages@example.com';
    const body = [JSON.stringify([london(user, 50), dlp(user, 51)]), JSON.stringify(dlp(user, 52)), JSON.stringify([sydney(user, 55)])].join('\n');
    const r = await ship(body, { 'content-type': 'application/json' });
    expect(r).toEqual({ status: 202, json: { accepted: 4, rejected: 0, errors: [] } });
    await waitFor(async () => (await levelOf(user)) === 'high', { what: `impossible travel of ${user}` });
  });
});

/** Vector's `estimated_json_encoded_size_of` of an event of strings: its JSON without the escapes. */
const vectorEstimate = (json: string): number => json.length - (json.match(/\\./g)?.length ?? 0);

/**
 * A Vector `http` sink left at its default batch (`batch.max_bytes` 10 000 000, counted by Vector's
 * estimate, which leaves JSON escapes out, and sent uncompressed) against the default
 * `http.body_limit`. Vector retries only 408, 429 and 5xx: a 413 drops the batch. With the old
 * 5 MiB default every full batch was refused (the connection cut while it was sent), so lost.
 */
describe("Vector http sink at its default batch size (10 MB by Vector's estimate)", () => {
  it('a full batch (a JSON array of file-source events, ≈ 11 MB as sent) is accepted whole: 202, every record appended', async () => {
    const before = await redis.xlen(`${prefix}:activity`);
    const events: string[] = [];
    let estimate = 0;
    for (let i = 0; ; i++) {
      // An IdP's JSON line (many quotes, each escaped once in `message`) in Vector's file-source envelope.
      const line = JSON.stringify({
        type: 'access',
        id: `batch-${i}`,
        user: `batch-${i % 50}@example.com`,
        time: new Date(base - 60_000 + (i % 1000)).toISOString(),
        outcome: 'allowed',
        app: 'drive',
        ip: '81.2.69.142',
        session: { id: `s-${i % 50}`, idp: 'okta' },
        device: { id: `d-${i % 50}`, posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } },
        request: { method: 'GET', path: '/drive/v3/files', agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)' },
      });
      const event = JSON.stringify({
        file: '/var/log/idp/events.json',
        host: 'shipper-1',
        message: line,
        source_type: 'file',
        timestamp: new Date(base).toISOString().replace('Z', '123456Z'),
      });
      if (estimate + vectorEstimate(event) > 10_000_000) break;
      estimate += vectorEstimate(event);
      events.push(event);
    }
    const body = `[${events.join(',')}]`;
    expect(body.length).toBeGreaterThan(10 * 1024 * 1024); // over 10 MiB as sent: the escapes Vector does not count

    const res = await fetch(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: events.length, rejected: 0 });
    expect(await redis.xlen(`${prefix}:activity`)).toBe(before + events.length);
  }, 60_000);
});
