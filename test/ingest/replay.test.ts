import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type StreamNames } from '../../src/config/load.js';
import { replayFile } from '../../src/ingest/replay.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import { isRiskstreamError } from '../../src/errors.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('replay-file');
const dir = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\n`);
const streams: StreamNames = loadConfig(dir, {}).streams;
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const login = JSON.stringify({ type: 'login', user: 'a@example.com', time: '2026-11-23T08:00:00Z' });
const dlp = JSON.stringify({ type: 'dlp', user: 'a@example.com', time: '2026-11-23T08:01:00Z', severity: 'high' });
/** A stream entry's field list as name/value pairs. */
const pairs = (f: string[]): Array<[string, string]> => f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!] as [string, string]]));

describe('replayFile', () => {
  it('reads a gzip file and drops a leading UTF-8 BOM (CRLF lines too): each line is its event, in its stream', async () => {
    const file = join(dir, 'events.ndjson.gz');
    writeFileSync(file, gzipSync(Buffer.from(`\ufeff${login}\r\n\r\n${dlp}\r\n`, 'utf8')));
    const r = await replayFile(redis, streams, file);
    expect(r.sent).toBe(2);
    expect((await redis.xrange(streams.login, '-', '+')).map(([, f]) => f)).toEqual([['event', login]]);
    expect((await redis.xrange(streams.activity, '-', '+')).map(([, f]) => f)).toEqual([['event', dlp]]);
  });

  it('streams the file: events are appended while it is still being written (a FIFO), none held back', async () => {
    const fifo = join(dir, 'events.fifo');
    execFileSync('mkfifo', [fifo]);
    const before = await redis.xlen(streams.activity);
    const progress: Array<[number, number | undefined]> = [];
    const done = replayFile(redis, streams, fifo, { chunk: 1, onProgress: (n, total) => void progress.push([n, total]) });
    // Opened asynchronously: a blocking open of a FIFO waits for its reader, which opens on a later tick.
    const w = await open(fifo, 'w');
    await w.write(`${dlp}\n`);
    // The first event is in its stream while the writer still holds the FIFO open.
    const deadline = Date.now() + 10_000;
    while ((await redis.xlen(streams.activity)) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await redis.xlen(streams.activity)).toBe(before + 1);
    await w.write(`${dlp}\nnot json\n`);
    await w.close();
    expect((await done).sent).toBe(3);
    expect(await redis.xlen(streams.activity)).toBe(before + 3);
    expect(progress).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
    ]);
  });

  it('input that pauses (a FIFO fed live) has what was read appended at once, not held until a full chunk of 500 events or the end', async () => {
    const fifo = join(dir, 'live.fifo');
    execFileSync('mkfifo', [fifo]);
    const before = await redis.xlen(streams.activity);
    const done = replayFile(redis, streams, fifo); // the CLI's chunk: 500
    const w = await open(fifo, 'w');
    try {
      await w.write(`${dlp}\n`);
      // Held until 499 more events came (or the writer closed).
      const deadline = Date.now() + 10_000;
      while ((await redis.xlen(streams.activity)) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await redis.xlen(streams.activity)).toBe(before + 1);
      await w.write(`${dlp}\n`);
    } finally {
      await w.close();
    }
    expect(await done).toMatchObject({ sent: 2, through: 2, stopped: false });
    expect(await redis.xlen(streams.activity)).toBe(before + 2);
  });

  it('an append failing while the next line is awaited (a FIFO fed live) ends the replay with the error, not a wait for the writer', async () => {
    const p3 = testPrefix('replay-live-fail');
    const d3 = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
    writeFileSync(join(d3, 'riskstream.yaml'), `redis:\n  prefix: ${p3}\n`);
    const s3 = loadConfig(d3, {}).streams;
    await redis.set(s3.activity, 'not a stream');
    const fifo = join(d3, 'live.fifo');
    execFileSync('mkfifo', [fifo]);
    const done = replayFile(redis, s3, fifo).then(
      () => 'appended',
      (e: unknown) => (isRiskstreamError(e) ? e.code : 'other'),
    );
    const w = await open(fifo, 'w');
    try {
      await w.write(`${dlp}\n`); // and held open
      expect(await done).toBe('INTERNAL');
    } finally {
      await w.close();
      await cleanup(redis, p3);
      rmSync(d3, { recursive: true, force: true });
    }
  });

  it('a stop while the first bytes are still awaited (a FIFO whose writer is quiet) ends the replay: nothing appended, stopped', async () => {
    const fifo = join(dir, 'quiet.fifo');
    execFileSync('mkfifo', [fifo]);
    const stop = new AbortController();
    const done = replayFile(redis, streams, fifo, { signal: stop.signal });
    const w = await open(fifo, 'w'); // held open, nothing written
    try {
      await new Promise((r) => setTimeout(r, 100)); // the replay waits for its first bytes
      stop.abort();
      // It waited for the writer's first bytes for ever.
      expect(await done).toMatchObject({ sent: 0, through: 0, stopped: true });
    } finally {
      await w.close();
    }
  });

  it('--rebase shifts every time so the newest is now (a second pass); progress knows the total', async () => {
    const file = join(dir, 'rebase.ndjson');
    writeFileSync(file, `${login}\n${dlp}\n`);
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const progress: Array<number | undefined> = [];
    const from = (await redis.xrevrange(streams.activity, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    await replayFile(redis, streams, file, { rebase: now, onProgress: (_n, total) => void progress.push(total) });
    const last = await redis.xrevrange(streams.activity, '+', `(${from}`, 'COUNT', 1);
    expect((JSON.parse(last[0]![1][1]!) as { time: string }).time).toBe(new Date(now).toISOString());
    const first = await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1);
    expect((JSON.parse(first[0]![1][1]!) as { time: string }).time).toBe(new Date(now - 60_000).toISOString());
    expect(progress).toEqual([2]);
  });

  it("--rebase resumed with --from-line shifts the rest as the whole file was shifted (by its newest event), not by the rest's newest", async () => {
    const file = join(dir, 'rebase-resume.ndjson');
    const newest = JSON.stringify({ type: 'dlp', user: 'a@example.com', time: '2026-11-23T09:00:00Z', severity: 'high' });
    writeFileSync(file, `${newest}\n${dlp}\n`); // not in time order: the newest first, line 2 an hour before it
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const progress: Array<number | undefined> = [];
    const from = (await redis.xrevrange(streams.activity, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    await replayFile(redis, streams, file, { rebase: now, from: 2, onProgress: (_n, total) => void progress.push(total) });
    const appended = await redis.xrange(streams.activity, `(${from}`, '+');
    // Line 2 stays 59 minutes before line 1's place (now), as the first run would have put it.
    expect(appended.map(([, f]) => (JSON.parse(f[1]!) as { time: string }).time)).toEqual([new Date(now - 59 * 60_000).toISOString()]);
    expect(progress).toEqual([1]);
  });

  it('--rebase: one outlier stamped far in the future does not shift the rest of the file out of ingest.max_past', async () => {
    const file = join(dir, 'rebase-outlier.ndjson');
    const outlier = JSON.stringify({ type: 'dlp', user: 'a@example.com', time: '2099-01-01T00:00:00Z', severity: 'high' });
    writeFileSync(file, `${login}\n${dlp}\n${outlier}\n`);
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const from = (await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const outliers: number[] = [];
    await replayFile(redis, streams, file, { rebase: now, onOutliers: (n) => void outliers.push(n) });
    const rebased = await redis.xrange(streams.login, `(${from}`, '+');
    const t = Date.parse((JSON.parse(rebased[0]![1][1]!) as { time: string }).time);
    // The file's newest plausible event (the dlp, a minute after the login) is now: the login a minute before.
    expect(t).toBe(now - 60_000);
    expect(outliers).toEqual([1]);
  });

  it('routes vendor records by their canonical type; --rebase shifts them too, written as canonical events', async () => {
    const okta = JSON.parse(readFileSync(new URL('./fixtures/okta-session-start.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const published = Date.parse(okta.published as string);
    const file = join(dir, 'vendor.ndjson');
    // The Okta login is the newest line: it becomes now, the canonical dlp keeps its distance to it.
    const dlpAt = published - 3_600_000;
    writeFileSync(
      file,
      `${JSON.stringify({ type: 'dlp', user: 'a@example.com', time: new Date(dlpAt).toISOString() })}
${JSON.stringify(okta)}
`,
    );
    const before = (await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const plain = await replayFile(redis, streams, file);
    expect(plain.byStream).toEqual({ [streams.login]: 1, [streams.activity]: 1 });
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    await replayFile(redis, streams, file, { rebase: now });
    const logins = await redis.xrange(streams.login, `(${before}`, '+');
    expect(logins).toHaveLength(2);
    expect(logins[0]![1]).toEqual(['event', JSON.stringify(okta)]); // without --rebase: the record as it is
    const f = logins[1]![1];
    expect(f).toContain('canonical');
    const e = JSON.parse(f[f.indexOf('event') + 1]!) as { type: string; time: number; user: string; eventType: string };
    expect(e).toMatchObject({ type: 'login', time: now, user: 'alice.ng@example.com', eventType: 'user.session.start' });
    const dlps = await redis.xrevrange(streams.activity, '+', '-', 'COUNT', 1);
    expect((JSON.parse(dlps[0]![1][1]!) as { time: string }).time).toBe(new Date(now - 3_600_000).toISOString());
  });

  it('an Entra diagnostic-export record (its own top-level `time`) is routed as a login and shifted by --rebase (was taken for a canonical event: activity, never shifted)', async () => {
    const signIn = JSON.parse(readFileSync(new URL('./fixtures/entra-signin.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const record = { time: signIn.createdDateTime, category: 'SignInLogs', operationName: 'Sign-in activity', properties: signIn };
    const file = join(dir, 'entra-export.ndjson');
    writeFileSync(file, `${JSON.stringify(record)}\n`);
    const before = (await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    expect((await replayFile(redis, streams, file)).byStream).toEqual({ [streams.login]: 1 });
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    expect((await replayFile(redis, streams, file, { rebase: now })).byStream).toEqual({ [streams.login]: 1 });
    const logins = await redis.xrange(streams.login, `(${before}`, '+');
    expect(logins).toHaveLength(2);
    // What the worker reads of the rebased entry: the sign-in at now.
    const d = decodeEntry({ stream: streams.login, id: logins[1]![0], fields: Object.fromEntries(pairs(logins[1]![1])), deliveries: 1 });
    expect(d).toMatchObject({ ok: true, event: { type: 'login', time: now, user: 'testaccount1@contoso.com' } });
  });

  it('--rebase shifts a session expiry given as a dotted key (ECS-style "session.expires_at", read as the nested one) with its login (found by a black-box review: left as it was, the rebased session had expired before its login)', async () => {
    const file = join(dir, 'rebase-dotted.ndjson');
    const dotted = {
      type: 'login',
      user: 'd@example.com',
      time: '2026-06-01T08:00:00Z',
      outcome: 'success',
      'session.id': 's-dot',
      'session.expires_at': '2026-06-01T20:00:00Z',
    };
    writeFileSync(file, `${JSON.stringify(dotted)}\n`);
    const before = (await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    await replayFile(redis, streams, file, { rebase: now });
    const [entry] = await redis.xrange(streams.login, `(${before}`, '+');
    const d = decodeEntry({ stream: streams.login, id: entry![0], fields: Object.fromEntries(pairs(entry![1])), deliveries: 1 });
    expect(d).toMatchObject({ ok: true, event: { time: now, session: { id: 's-dot', expires_at: now + 12 * 3_600_000 } } });
  });

  it('a line wrapping its records ({"records":[…]}, as POST /v1/events unwraps one) is its elements, each an entry', async () => {
    const file = join(dir, 'wrapped.ndjson');
    const azure = JSON.stringify({ records: [JSON.parse(login), JSON.parse(dlp), 42] });
    // With a `user` it is an event (not a wrapper); a malformed wrapper stays the line (dead-lettered as such).
    const withUser = JSON.stringify({ user: 'b@example.com', type: 'dlp', time: '2026-11-23T08:02:00Z', records: [1] });
    const broken = '{"value":[{"user":"a@example.com"} {"user":"b@example.com"}]}';
    writeFileSync(file, `${azure}\n${JSON.stringify({ Records: [] })}\n${withUser}\n${broken}\n`);
    const fromLogin = (await redis.xrevrange(streams.login, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const fromActivity = (await redis.xrevrange(streams.activity, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const progress: Array<[number, number | undefined]> = [];
    const r = await replayFile(redis, streams, file, { onProgress: (n, total) => void progress.push([n, total]) });
    expect(r).toEqual({ sent: 5, byStream: { [streams.login]: 1, [streams.activity]: 4 }, through: 4, stopped: false });
    expect(progress).toEqual([[5, undefined]]);
    expect((await redis.xrange(streams.login, `(${fromLogin}`, '+')).map(([, f]) => f)).toEqual([['event', login]]);
    const activity = await redis.xrange(streams.activity, `(${fromActivity}`, '+');
    expect(activity.map(([, f]) => f)).toEqual([
      ['event', dlp],
      ['event', '42'],
      ['event', withUser],
      ['event', broken],
    ]);
    // Each element is the worker's event, or its own dead letter with a reason.
    const decoded = activity.map(([id, f]) => decodeEntry({ stream: streams.activity, id, fields: { event: f[1]! }, deliveries: 1 }));
    expect(decoded.map((d) => d.ok)).toEqual([true, false, true, false]);
    expect(decoded[1]).toMatchObject({ ok: false, reason: expect.any(String) as string });

    // --rebase: the first pass reads the elements too (their count, the newest time).
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const totals: Array<number | undefined> = [];
    writeFileSync(file, `${JSON.stringify({ events: [JSON.parse(login), JSON.parse(dlp)] })}\n`);
    await replayFile(redis, streams, file, { rebase: now, onProgress: (_n, total) => void totals.push(total) });
    expect(totals).toEqual([2]);
    const last = await redis.xrevrange(streams.activity, '+', '-', 'COUNT', 1);
    expect((JSON.parse(last[0]![1][1]!) as { time: string }).time).toBe(new Date(now).toISOString());
  });

  it('a missing file is NOT_FOUND', async () => {
    await expect(replayFile(redis, streams, join(dir, 'nope.ndjson'))).rejects.toSatisfy((e) => isRiskstreamError(e, 'NOT_FOUND'));
  });

  it('a file cut short (a truncated gzip) fails saying how many events were appended before', async () => {
    const file = join(dir, 'cut.ndjson.gz');
    const gz = gzipSync(Buffer.from(Array.from({ length: 3000 }, () => dlp).join('\n'), 'utf8'));
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.8)));
    const err = await replayFile(redis, streams, file, { chunk: 100 }).catch((e: unknown) => e);
    expect(isRiskstreamError(err, 'NOT_FOUND')).toBe(true);
    const sent = (err as { details: { sent: number } }).details.sent;
    expect(sent).toBeGreaterThan(0);
    expect((err as Error).message).toContain(`after ${sent} events were appended`);
  });

  it('--rebase on a FIFO is refused (it reads the file twice)', async () => {
    const fifo = join(dir, 'rebase.fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(replayFile(redis, streams, fifo, { rebase: Date.now() })).rejects.toSatisfy((e) => isRiskstreamError(e, 'BAD_REQUEST'));
  });
});
