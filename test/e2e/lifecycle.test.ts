import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { replayFile } from '../../src/ingest/replay.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { engineBehind, readState } from '../helpers/engine.js';

/**
 * The worker's life: Redis connections dropped mid-replay, SIGTERM mid-replay then a restart,
 * SIGHUP reload. Each faulty run is compared with a fault-free run of the same events.
 */

const BEHAVIORS = {
  impossible_travel: { enabled: true, risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500 },
  dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' },
  endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
};
const MAIN = { streams: { block: '200ms', claim_idle: '2s', batch_size: 100 } };

const redis = redisClient();
const prefixes = { ref: testPrefix('life-ref'), blip: testPrefix('life-blip'), term: testPrefix('life-term') };
const configs: TestConfig[] = [];
const workers: WorkerProcess[] = [];

// ---- the events: a few thousand, every user's events in one stream, in time order ----------

// 16 h ago: every event (spanning 14.5 h) is in the past and its hits (24 h) are still live, so
// expiries depend on event time only (an event time in the future would count from processing).
const BASE = Math.floor((Date.now() - 16 * 3_600_000) / 60_000) * 60_000;
const ACTIVITY_USERS = 40;
const LOGIN_USERS = 20;
const CITIES = {
  london: { lat: 51.5, lon: -0.12, country: 'GB', city: 'London', ip: '81.2.69.142' },
  paris: { lat: 48.86, lon: 2.35, country: 'FR', city: 'Paris', ip: '90.0.0.1' },
  sydney: { lat: -33.87, lon: 151.21, country: 'AU', city: 'Sydney', ip: '1.128.0.1' },
};

function buildEvents(): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown> & { time: number }> = [];
  for (let i = 0; i < ACTIVITY_USERS; i++) {
    const user = `act-${i}@example.com`;
    for (let j = 0; j < 60; j++) {
      const time = BASE + (j * ACTIVITY_USERS + i) * 10_000;
      const id = `${user}#${j}`;
      if (j === 45 && i % 2 === 0)
        out.push({ type: 'endpoint', id, user, time, device: { id: `d-${i}` }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' });
      else if (j % 3 === 1) out.push({ type: 'access', id, user, time, outcome: 'denied', app: 'payroll' });
      else out.push({ type: 'dlp', id, user, time, profile: 'credit-cards', severity: j % 3 === 0 ? 'high' : 'low', action: 'block', app: 'drive' });
    }
  }
  for (let k = 0; k < LOGIN_USERS; k++) {
    const user = `login-${k}@example.com`;
    for (let j = 0; j < 30; j++) {
      const c = j === 10 || j === 20 ? CITIES.sydney : j % 2 ? CITIES.paris : CITIES.london;
      const { ip, ...geo } = c;
      out.push({ type: 'login', id: `${user}#${j}`, user, time: BASE + j * 1_800_000 + k * 1000, outcome: 'success', ip, geo: { ...geo, accuracy_km: 20 } });
    }
  }
  out.sort((a, b) => a.time - b.time);
  return out.map((e) => ({ ...e, time: new Date(e.time).toISOString() }));
}

const EVENTS = buildEvents();
const USERS = [...new Set(EVENTS.map((e) => e.user as string))].sort();
let eventsFile: string;

// ---- helpers ---------------------------------------------------------------------------------

const streamsOf = (prefix: string) => ({
  login: `${prefix}:login`,
  activity: `${prefix}:activity`,
  inputs: [`${prefix}:login`, `${prefix}:activity`],
  deadLetter: `${prefix}:dead-letter`,
  riskEvents: `${prefix}:risk-events`,
  audit: `${prefix}:audit`,
  group: 'riskstream',
});

/**
 * True when the group (the router) has read and acked every entry of both input streams, `total`
 * entries exist, and every partition committed what was routed to it.
 */
async function drained(r: Redis, prefix: string, total: number): Promise<boolean> {
  let len = 0;
  for (const s of streamsOf(prefix).inputs) {
    len += await r.xlen(s);
    const groups = (await r.xinfo('GROUPS', s)) as unknown[][];
    const g = groups
      .map((row) => Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i], row[2 * i + 1]])))
      .find((x) => x.name === 'riskstream');
    if (!g || Number(g.pending) !== 0 || Number(g.lag) !== 0) return false;
  }
  return len === total && (await engineBehind(r, new Keys(prefix))) === null;
}

/** Entries the consumer group has been handed, over both input streams. */
async function entriesRead(prefix: string): Promise<number> {
  let n = 0;
  for (const s of streamsOf(prefix).inputs) {
    const groups = (await redis.xinfo('GROUPS', s)) as unknown[][];
    for (const row of groups) if (row[row.indexOf('name') + 1] === 'riskstream') n += Number(row[row.indexOf('entries-read') + 1] ?? 0);
  }
  return n;
}

async function pendingCount(prefix: string): Promise<number> {
  let n = 0;
  for (const s of streamsOf(prefix).inputs) n += ((await redis.xpending(s, 'riskstream')) as [number])[0];
  return n;
}

/**
 * Everything the events produced for each user, without what legitimately differs between
 * runs (stream ids, wall-clock times, change ids).
 */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const keys = new Keys(prefix);
  const out: Record<string, unknown> = {};
  for (const user of USERS) {
    const state = (await readState(redis, keys, user)) as Record<string, unknown> | null;
    if (state) {
      delete state.lastIds;
      delete state.updatedAt;
      delete state.changedAt;
    }
    const events = (await redis.xrange(keys.userEvents(user), '-', '+')).map(([, f]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
      const d = JSON.parse(m.data ?? '{}') as Record<string, unknown>;
      return m.kind === 'change'
        ? { kind: 'change', version: d.version, previous: d.previous, current: d.current, behaviors: d.behaviors, reason: d.reason }
        : { kind: m.kind, ...d, processedAt: undefined }; // a processing time, like changedAt
    });
    // Hits and the change they cause may share a commit or not, depending on batch boundaries:
    // compare the user's risk events as a multiset.
    out[user] = { state, events: events.map((e) => JSON.stringify(e)).sort() };
  }
  return out;
}

/** Redis client ids of a process's connections (its sockets to Redis, matched in CLIENT LIST). */
async function clientsOf(pid: number): Promise<Array<{ id: string; name: string }>> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const [, remotePort] = cols[2]!.split(':');
      if (parseInt(remotePort!, 16) === 6379) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .map((l) => Object.fromEntries(l.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
    .filter((c) => c.addr && ports.has(Number(c.addr.slice(c.addr.lastIndexOf(':') + 1))))
    .map((c) => ({ id: c.id!, name: c.name ?? '' }));
}

async function startConfig(prefix: string): Promise<TestConfig> {
  const cfg = await writeTestConfig(prefix, MAIN, BEHAVIORS);
  configs.push(cfg);
  return cfg;
}

async function start(cfg: TestConfig): Promise<WorkerProcess> {
  const w = await spawnWorker(cfg.dir);
  workers.push(w);
  return w;
}

// ---- the fault-free reference ------------------------------------------------------------------

let reference: Record<string, unknown>;

beforeAll(async () => {
  const cfg = await startConfig(prefixes.ref);
  eventsFile = join(cfg.dir, 'events.ndjson');
  writeFileSync(eventsFile, `${EVENTS.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const config = loadConfig(cfg.dir);
  const ref: WorkerHandle = await startWorker({ config, configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: 'ref' });
  try {
    await replayFile(redis, config.streams, eventsFile);
    await waitFor(() => drained(redis, prefixes.ref, EVENTS.length), { timeout: 30_000, interval: 100, what: 'reference run drained' });
  } finally {
    await ref.close();
  }
  reference = await snapshot(prefixes.ref);
  // The events do what they were made for: every user has state, some levels rose.
  const levels = Object.values(reference).map((u) => (u as { state: { level: string } | null }).state?.level);
  expect(levels.every(Boolean)).toBe(true);
  expect(levels.filter((l) => l === 'high').length).toBe(ACTIVITY_USERS / 2 + LOGIN_USERS);
  expect(levels.filter((l) => l === 'medium').length).toBe(ACTIVITY_USERS / 2);
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  for (const p of Object.values(prefixes)) await cleanup(redis, p);
  redis.disconnect();
  for (const c of configs) c.remove();
});

describe('worker lifecycle', () => {
  it('(a) Redis connections dropped mid-replay: every entry processed exactly once', async () => {
    const cfg = await startConfig(prefixes.blip);
    const w = await start(cfg);
    const pid = w.child.pid!;
    const names = new Set((await clientsOf(pid)).map((c) => c.name));
    expect(names).toContain('riskstream:main');
    expect(names).toContain('riskstream:reader');

    const config = loadConfig(cfg.dir);
    const replay = replayFile(redis, config.streams, eventsFile, { rate: 2500 });
    let kills = 0;
    for (let round = 0; round < 8; round++) {
      await new Promise((r) => setTimeout(r, 120));
      const clients = await clientsOf(pid);
      for (const c of clients) {
        try {
          await redis.client('KILL', 'ID', c.id);
          kills++;
        } catch {
          /* already gone */
        }
      }
    }
    await replay;
    expect(kills).toBeGreaterThanOrEqual(8);
    await waitFor(() => drained(redis, prefixes.blip, EVENTS.length), { timeout: 30_000, interval: 100, what: 'faulty run drained' }).catch(
      async (e: unknown) => {
        const behind = await engineBehind(redis, new Keys(prefixes.blip));
        throw new Error(`${(e as Error).message}; engine: ${behind}; pending: ${await pendingCount(prefixes.blip)}; worker log: ${w.output().slice(-3000)}`);
      },
    );

    expect(w.child.exitCode).toBeNull();
    expect(await pendingCount(prefixes.blip)).toBe(0);
    expect(await redis.xlen(`${prefixes.blip}:dead-letter`)).toBe(0);
    expect(await snapshot(prefixes.blip)).toEqual(reference);
    expect(w.output()).toMatch(/reconnect/);
    expect(await w.stop()).toBe(0);
  }, 60_000);

  let restarted: WorkerProcess;
  let termCfg: TestConfig;

  it('(b) SIGTERM mid-replay: exits 0 promptly, only held-back entries pending (for the next router); a restart completes the run', async () => {
    termCfg = await startConfig(prefixes.term);
    const w = await start(termCfg);
    const config = loadConfig(termCfg.dir);
    const replay = replayFile(redis, config.streams, eventsFile, { rate: 1500 });
    await waitFor(async () => (await redis.xlen(`${prefixes.term}:activity`)) > 300, { what: 'replay under way' });
    const t = Date.now();
    const code = await w.stop('SIGTERM');
    const took = Date.now() - t;
    expect(code).toBe(0);
    expect(took).toBeLessThan(8000);
    // Graceful: what the router read below its watermark was routed and acked before the exit (and
    // what the owner applied was committed). What it held back — entries above the watermark, while
    // the other stream could still hold older ones — stays pending for the router's consumer, which
    // any next router re-reads first, in order; entries routed but not yet applied wait in their
    // partition streams above the committed position. The restart below applies both (the snapshot
    // proves it).
    const pending = (await Promise.all(streamsOf(prefixes.term).inputs.map((st) => redis.xpending(st, 'riskstream')))) as Array<
      [number, string | null, string | null, Array<[string, string]> | null]
    >;
    for (const [n, , , consumers] of pending) if (n > 0) expect(consumers?.map(([c]) => c)).toEqual(['riskstream-router']);
    // It really stopped mid-replay: the group had read only part of the entries.
    const read = await entriesRead(prefixes.term);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(EVENTS.length);
    await replay;

    restarted = await start(termCfg);
    await waitFor(() => drained(redis, prefixes.term, EVENTS.length), { timeout: 30_000, interval: 100, what: 'restarted run drained' });
    expect(await pendingCount(prefixes.term)).toBe(0);
    expect(await redis.xlen(`${prefixes.term}:dead-letter`)).toBe(0);
    expect(await snapshot(prefixes.term)).toEqual(reference);
  }, 60_000);

  it('(c) SIGHUP reloads the configuration, keeps the state, audits config.reloaded', async () => {
    expect(restarted, 'needs (b)').toBeDefined();
    const w = restarted;
    const auditStream = `${prefixes.term}:audit`;
    const reloads = async (): Promise<number> =>
      (await redis.xrange(auditStream, '-', '+')).filter(([, f]) => f[f.indexOf('action') + 1] === 'config.reloaded').length;
    const before = await reloads();
    const level = async (user: string): Promise<string | undefined> => {
      const res = await fetch(`${w.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${termCfg.adminToken}` } });
      return res.status === 200 ? ((await res.json()) as { level: string }).level : undefined;
    };
    const endpointHit = (user: string) =>
      redis.xadd(
        `${prefixes.term}:activity`,
        '*',
        'event',
        JSON.stringify({
          type: 'endpoint',
          user,
          time: new Date(BASE).toISOString(),
          device: { id: 'd-x' },
          vendor: 'crowdstrike',
          detection: 'malware',
          severity: 'critical',
        }),
      );

    // endpoint_detection: high → medium.
    writeFileSync(
      join(termCfg.dir, 'behaviors.yaml'),
      stringify({ ...BEHAVIORS, endpoint_detection: { ...BEHAVIORS.endpoint_detection, risk_level: 'medium' } }),
    );
    w.child.kill('SIGHUP');
    await waitFor(async () => (await reloads()) === before + 1, { what: 'config.reloaded audit entry' });
    const entry = (await redis.xrevrange(auditStream, '+', '-', 'COUNT', 10)).find(([, f]) => f[f.indexOf('action') + 1] === 'config.reloaded')!;
    expect(entry[1].join(' ')).toContain('endpoint_detection:medium');
    const details = JSON.parse(entry[1][entry[1].indexOf('details') + 1]!) as { changes?: unknown };
    expect(details.changes).toMatchObject({ behaviors: { changed: { endpoint_detection: expect.arrayContaining(['risk_level']) } } });

    await endpointHit('after-reload@example.com');
    await waitFor(async () => (await level('after-reload@example.com')) === 'medium', { what: 'the new risk level applied' });
    // State kept: earlier users keep what they had.
    expect(await level('act-0@example.com')).toBe('high');
    expect(await level('act-1@example.com')).toBe('medium');

    // A broken file is refused: the worker keeps running with the configuration in force.
    writeFileSync(
      join(termCfg.dir, 'behaviors.yaml'),
      stringify({ ...BEHAVIORS, endpoint_detection: { ...BEHAVIORS.endpoint_detection, risk_level: 'severe' } }),
    );
    w.child.kill('SIGHUP');
    await waitFor(() => /reload refused/.test(w.output()), { what: 'reload refused in the log' });
    expect(await reloads()).toBe(before + 1);
    // Refused reloads are audited with their issues, and counted.
    await waitFor(async () => (await redis.xrange(auditStream, '-', '+')).some(([, f]) => f.includes('config.reload_refused')), {
      what: 'config.reload_refused audit entry',
    });
    const refused = (await redis.xrevrange(auditStream, '+', '-', 'COUNT', 10)).find(([, f]) => f.includes('config.reload_refused'))!;
    expect(refused[1].join(' ')).toMatch(/behaviors\.yaml:\d+:\d+ endpoint_detection\.risk_level/);
    const metrics = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${termCfg.adminToken}` } })).text();
    expect(metrics).toMatch(/riskstream_config_reloads_total\{result="refused"\} 1/);
    expect(metrics).toMatch(/riskstream_config_reloads_total\{result="applied"\} 1/);
    await endpointHit('after-bad-reload@example.com');
    await waitFor(async () => (await level('after-bad-reload@example.com')) === 'medium', { what: 'still the reloaded configuration' });

    // behaviors.yaml gone (deleted, an editor saving by rename): refused too, not the shipped defaults.
    rmSync(join(termCfg.dir, 'behaviors.yaml'));
    w.child.kill('SIGHUP');
    await waitFor(async () => (await redis.xrange(auditStream, '-', '+')).filter(([, f]) => f.includes('config.reload_refused')).length === 2, {
      what: 'a second config.reload_refused audit entry',
    });
    const gone = (await redis.xrevrange(auditStream, '+', '-', 'COUNT', 10)).find(([, f]) => f.includes('config.reload_refused'))!;
    expect(gone[1].join(' ')).toMatch(/behaviors\.yaml:1:1 the behaviors file is gone/);
    expect(await reloads()).toBe(before + 1);
    await endpointHit('after-gone@example.com');
    await waitFor(async () => (await level('after-gone@example.com')) === 'medium', { what: 'still the reloaded configuration' });
    expect(w.child.exitCode).toBeNull();
    expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
    expect(await w.stop()).toBe(0);
  }, 30_000);
});
