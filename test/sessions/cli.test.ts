import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { makeSessionsCommand, setQueueSinkFactory } from '../../src/cli/commands/sessions.js';
import { loadConfig } from '../../src/config/load.js';
import { CAEP_SESSION_REVOKED } from '../../src/ssf/set-builder.js';
import { createSetQueue } from '../../src/ssf/queue.js';
import { SsfStreamStore, streamReceiverName } from '../../src/ssf/streams.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionRevocation } from '../../src/sessions/revoke.js';
import { SessionStore } from '../../src/sessions/store.js';
import { login, settings, testRedis } from './helpers.js';

const t = testRedis();
const store = new SessionStore(t.redis, t.keys);
let dir: string;
const sent: SessionRevocation[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rs-sessions-cli-'));
  writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${t.prefix}\n`);
  const ids = [login({ sessionId: 'cli-1', time: Date.now() - 2000 }), login({ sessionId: 'cli-2', user: 'bob@example.com', time: Date.now() - 1000 })].map(
    (e) => buildIdentity(e, settings())!,
  );
  await store.put(ids);
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.cleanup();
  await t.redis.quit();
});

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const program = new Command('riskstream').exitOverride();
  makeSessionsCommand(async () => ({ sink: (r) => void sent.push(r) }))(program);
  process.exitCode = 0;
  await program.parseAsync(['node', 'riskstream', 'sessions', ...args, '--config', dir]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  vi.restoreAllMocks();
  return { out, err, code };
}

describe('riskstream sessions', () => {
  it('list prints a table, newest first', async () => {
    const { out } = await run('list');
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+USER\s+IDP\s+DEVICE\s+IP\s+LOCATION\s+NETWORK\s+LOGIN\s+EXPIRES$/);
    expect(lines[1]).toMatch(/^cli-2\s+bob@example\.com\s+okta\s+d-9\s+81\.2\.69\.142\s+London, GB\s+warp LHR AS2856/);
    expect(lines[2]).toMatch(/^cli-1\s+alice@example\.com/);
  });

  it('list keeps its columns aligned in a terminal with wide (CJK) and combining characters in ids (found by a black-box audit: the columns after them slipped)', async () => {
    const user = 'ユーザー';
    const ids = [
      login({ sessionId: 'セッション', user, time: Date.now() - 500 }),
      login({ sessionId: 'se\u0301ss-1', user, time: Date.now() - 400, device: { id: '設備-1' } }),
    ].map((e) => buildIdentity(e, settings())!);
    await store.put(ids);
    try {
      const { out } = await run('list', '--user', user);
      const lines = out.split('\nDevices')[0]!.trim().split('\n');
      expect(lines).toHaveLength(3);
      // Terminal columns: a CJK character takes two, a combining mark none.
      const columns = (s: string): number => [...s].reduce((w, ch) => w + (/\p{M}/u.test(ch) ? 0 : /[\u3040-\u30ff\u4e00-\u9fff]/u.test(ch) ? 2 : 1), 0);
      const loginColumn = (line: string): number => columns(line.slice(0, line.search(/\d{4}-\d\d-\d\dT/)));
      expect(lines.slice(1).map(loginColumn)).toEqual([
        loginColumn(lines[0]!.replace('LOGIN', '2026-01-01T')),
        loginColumn(lines[0]!.replace('LOGIN', '2026-01-01T')),
      ]);
    } finally {
      await store.revokeUser(user, { actor: 'test', reason: 'cleanup' });
    }
  });

  it('list --user shows the user’s sessions and devices', async () => {
    const { out } = await run('list', '--user', 'alice@example.com');
    expect(out).toContain('cli-1');
    expect(out).not.toContain('cli-2');
    expect(out).toMatch(/Devices\nDEVICE\s+LAST_SEEN/);
  });

  it('list --user with an empty user, or with --cursor, is refused as the API’s ?user= is (found by a black-box audit: everyone’s sessions listed, the cursor ignored, exit 0)', async () => {
    for (const blank of ['', '  ']) await expect(run('list', '--user', blank)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(run('list', '--user', 'alice@example.com', '--cursor', 'WzEsImEiXQ')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('show prints the identity, claims and posture', async () => {
    const { out } = await run('show', 'cli-1');
    expect(out).toMatch(/claim\.email\s+alice@example\.com/);
    expect(out).toMatch(/posture\.disk_encrypted\s+true/);
    expect((await run('show', 'missing')).code).toBe(1);
  });

  it('show lists what sessions.max_identity_bytes cut, and prints its marker', async () => {
    const e = login({ sessionId: 'cli-big', user: 'carol@example.com' });
    e.session!.claims = { email: 'carol@example.com', groups: Array.from({ length: 5000 }, (_, i) => `group-${i}`) };
    await store.put([buildIdentity(e, settings({ max_identity_bytes: 8192 }))!]);
    try {
      const { out } = await run('show', 'cli-big');
      expect(out).toMatch(/truncated\s+claims\.groups/);
      expect(out).toMatch(/claim\.groups\s+\{"truncated":true,"bytes":\d+,"sha256":"[0-9a-f]{64}","items":5000\}/);
      expect(out).toMatch(/claim\.email\s+carol@example\.com/);
    } finally {
      await store.revokeUser('carol@example.com', { actor: 'test', reason: 'cleanup' });
    }
  });

  it('revoke revokes, audits and hands the change to the sink', async () => {
    const { out } = await run('revoke', 'cli-1', '--reason', 'lost laptop');
    expect(out).toMatch(/cli-1\s+alice@example\.com\s+lost laptop/);
    expect(await store.get('cli-1')).toBeNull();
    expect(sent).toMatchObject([{ sessionId: 'cli-1', user: 'alice@example.com', reason: 'lost laptop', actor: expect.stringMatching(/^cli/) }]);
    const { entries } = await new AuditLog(t.redis, `${t.prefix}:audit`).list({ action: 'session.revoked' });
    expect(entries).toHaveLength(1);
    const again = await run('revoke', 'cli-1', '--reason', 'x');
    expect(again.code).toBe(1);
    expect(again.err).toContain('no active session');
  });

  it('revoke of an id two users of different partitions logged in with: both rows are printed, as both were revoked (found by an outside-in doc audit: one row, the other copy revoked unseen)', async () => {
    const first = 'dup-a@example.com';
    let second = 'dup-b@example.com';
    for (let i = 0; t.keys.partitionOf(second) === t.keys.partitionOf(first); i++) second = `dup-b${i}@example.com`;
    const at = Date.now() - 500;
    await store.put([buildIdentity(login({ sessionId: 'cli-dup', user: first, time: at }), settings())!]);
    await store.put([buildIdentity(login({ sessionId: 'cli-dup', user: second, time: at + 1 }), settings())!]);
    const { out, code } = await run('revoke', 'cli-dup', '--reason', 'shared id');
    expect(code).toBe(0);
    const rows = out.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.split(/\s+/)[1]).sort()).toEqual([first, second].sort());
    expect(
      sent
        .filter((r) => r.sessionId === 'cli-dup')
        .map((r) => r.user)
        .sort(),
    ).toEqual([first, second].sort());
  });

  it('revoke with a blank --reason sends the default reason, as the API does, never an empty reason_admin (found by a black-box review)', async () => {
    await run('revoke', 'cli-2', '--reason', '  ');
    expect(sent.at(-1)).toMatchObject({ sessionId: 'cli-2', reason: 'revoked by admin' });
  });

  it('the default sink queues the session-revoked SET to streams registered through the SSF API too', async () => {
    await store.put([buildIdentity(login({ sessionId: 'cli-3', user: 'carol@example.com' }), settings())!]);
    const stream = await new SsfStreamStore(t.redis, t.keys).create({
      aud: 'https://rx.example',
      endpoint_url: 'http://127.0.0.1:9/push',
      events_requested: [CAEP_SESSION_REVOKED],
      status: 'enabled',
      removed_subjects: [],
    });
    const config = loadConfig(dir);
    const made = await setQueueSinkFactory({ config, redis: t.redis, keys: t.keys });
    const { createSessionService, createSessionStore } = await import('../../src/sessions/service.js');
    const audit = new AuditLog(t.redis, `${t.prefix}:audit`);
    await createSessionService({ store: createSessionStore(t.redis, t.keys, () => config.raw.sessions), audit, onRevoked: made.sink }).revoke('cli-3', {
      actor: 'cli:test',
      reason: 'stolen',
    });
    await made.close?.();
    const q = createSetQueue(t.redis, t.keys);
    try {
      const jobs = await q.queue.getJobs(['waiting', 'delayed', 'prioritized']);
      const mine = jobs.filter((j) => j.data.event === 'session-revoked' && j.data.receiver === streamReceiverName(stream.stream_id));
      expect(mine).toHaveLength(1);
      expect(mine[0]!.data).toMatchObject({ user: 'carol@example.com', sessionId: 'cli-3' });
    } finally {
      await q.close();
    }
  });
});
