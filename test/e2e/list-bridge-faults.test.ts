/**
 * The list bridge under faults, black box (real worker processes, real Redis): several lists fed
 * while two workers bridge them at once and are killed (-9) at random moments and restarted; the
 * worker's connection cut after a move ran and before its reply; a SIGTERM in the middle of a
 * backlog, and one while a move's reply is held; a reload (SIGHUP) adding and removing lists; the
 * shippers' shapes and bad items. Each pushed item ends in its input stream once — none lost, none
 * doubled — and is applied once (a threshold one over each user's count never fires), or after a
 * SIGTERM is still in its list; each bad item is dead-lettered once with its reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { readStates } from '../helpers/engine.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { prng } from '../helpers/prng.js';
import { proxyTestRedis } from '../helpers/tcp-proxy.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = testPrefix('e2e-bridge-faults');
const redis = redisClient();
const PARTITIONS = 4;
const keys = new Keys(prefix, PARTITIONS);
const login = `${prefix}:login`;
const activity = `${prefix}:activity`;
const lists = { a: `${prefix}:bridge:a`, b: `${prefix}:bridge:b`, c: `${prefix}:bridge:c` };
let cfg: TestConfig;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cfg = await writeTestConfig(
    prefix,
    {
      // Two lists into one stream; small batches: many moves, so that the kills land among them.
      bridge: { lists: { [lists.a]: login, [lists.b]: activity, [lists.c]: activity }, batch: 25, interval: '50ms' },
      engine: { partitions: PARTITIONS },
      shutdown_timeout: '20s',
      ingest: { max_event_size: 4096 },
    },
    {
      exact: { kind: 'threshold', risk_level: 'medium', expires_after: '24h', match: { type: 'bridged' }, count: PER_USER, window: '24h' },
      over: { kind: 'threshold', risk_level: 'high', expires_after: '24h', match: { type: 'bridged' }, count: PER_USER + 1, window: '24h' },
    },
  );
});

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

async function start(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const w = await spawnWorker(cfg.dir, env);
  workers.push(w);
  return w;
}

/** The `ref`s of the events in a stream's `event` fields that start with `tag`. */
async function inputIds(stream: string, tag: string): Promise<string[]> {
  const out: string[] = [];
  for (const [, f] of await redis.xrange(stream, '-', '+')) {
    const e = f[f.indexOf('event') + 1];
    let id: string | undefined;
    try {
      id = (JSON.parse(e ?? '') as { ref?: string }).ref;
    } catch {
      continue; // a bad item of the shapes test
    }
    if (typeof id === 'string' && id.startsWith(tag)) out.push(id);
  }
  return out;
}

/** The `i`th item of list `list`; `ref` says which (no `id`: an event applied twice would count twice). */
const event = (tag: string, list: string, i: number): string =>
  JSON.stringify({ type: 'bridged', ref: `${tag}-${list}-${i}`, user: userOf(tag, list, i), time: Date.now() });
const USERS = 15;
const userOf = (tag: string, list: string, i: number): string => `${tag}-${list}-${i % USERS}@example.com`;
/** Items per user in the kill test: `exact` fires for each user, `over` for none unless an item is applied twice. */
const PER_USER = 100;

const dupes = (ids: string[]): string[] => ids.filter((id, i) => ids.indexOf(id) !== i);

/** The shippers: `per` items to each list, 25 at a time, every 20 ms. */
async function ship(tag: string, per: number): Promise<void> {
  for (let pushed = 0; pushed < per; pushed += 25) {
    const n = Math.min(25, per - pushed);
    for (const l of ['a', 'b', 'c'] as const) await redis.rpush(lists[l], ...Array.from({ length: n }, (_, k) => event(tag, l, pushed + k)));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for the lists to drain, then: each of the `per` items of each list in its input stream once. */
async function movedOnce(tag: string, per: number): Promise<void> {
  await waitFor(async () => (await redis.llen(lists.a)) + (await redis.llen(lists.b)) + (await redis.llen(lists.c)) === 0, {
    what: 'the lists drained',
    timeout: 60_000,
    interval: 200,
  });
  const moved = [...(await inputIds(login, tag)), ...(await inputIds(activity, tag))];
  expect(dupes(moved)).toEqual([]);
  expect(moved.length).toBe(3 * per);
}

it('two workers bridging three lists (two into one stream), killed -9 at random moments while shippers push: each item in its stream once, applied once', async () => {
  const tag = 'kill';
  const PER_LIST = USERS * PER_USER;
  const rand = prng(20261206);
  const live = [await start(), await start()];
  const pusher = ship(tag, PER_LIST);
  // Three kills of a random worker at a random moment, each replaced.
  for (let k = 0; k < 3; k++) {
    await new Promise((r) => setTimeout(r, 200 + Math.floor(rand() * 1500)));
    const victim = live.splice(Math.floor(rand() * live.length), 1)[0]!;
    expect(await victim.stop('SIGKILL')).toBeNull();
    live.push(await start());
  }
  await pusher;
  await movedOnce(tag, PER_LIST);
  // Applied once: each user's `exact` threshold reached, its `over` threshold (one more) never.
  const users = (['a', 'b', 'c'] as const).flatMap((l) => Array.from({ length: USERS }, (_, i) => userOf(tag, l, i)));
  const active = async (id: string) => [...(await readStates(redis, keys, users)).values()].filter((s) => s.behaviors[id]).map((s) => s.user);
  await waitFor(async () => (await active('exact')).length === users.length, { what: 'every item applied', timeout: 90_000, interval: 500 });
  await new Promise((r) => setTimeout(r, 1000));
  expect(await active('over')).toEqual([]);
  for (const w of live) await w.stop();
}, 240_000);

it('SIGTERM while the bridge drains a backlog: the worker exits 0, each item in the stream once or still in its list', async () => {
  const tag = 'term';
  const N = 60_000;
  for (const old of workers) await old.stop('SIGKILL'); // the bridge of this worker alone
  const before = await redis.xlen(activity);
  const w = await start();
  for (let i = 0; i < N; i += 5000) await redis.rpush(lists.b, ...Array.from({ length: 5000 }, (_, k) => event(tag, 'b', i + k)));
  await waitFor(async () => (await redis.xlen(activity)) > before + 100, { what: 'the bridge under way', timeout: 60_000, interval: 5 });
  expect(await w.stop('SIGTERM')).toBe(0);
  const inList = (await redis.lrange(lists.b, 0, -1)).map((e) => (JSON.parse(e) as { ref: string }).ref);
  const moved = await inputIds(activity, tag);
  expect(dupes([...moved, ...inList])).toEqual([]);
  expect(moved.length + inList.length).toBe(N); // what was not moved before the stop waits in the list
}, 120_000);

it("shippers' shapes through a running worker: each read as its event; bad items dead-lettered once, each with its reason", async () => {
  for (const old of workers) await old.stop('SIGKILL');
  const T = '2026-12-06T08:00:00.000Z';
  const line = (user: string) => JSON.stringify({ type: 'bridged', user, outcome: 'success' });
  const good = {
    'logstash@example.com': JSON.stringify({
      '@timestamp': T,
      '@version': '1',
      type: 'bridged',
      user: 'logstash@example.com',
      host: { name: 'web-1' },
      event: { original: 'x' },
    }),
    'logstash-plain@example.com': JSON.stringify({
      '@timestamp': T,
      '@version': '1',
      message: line('logstash-plain@example.com'),
      event: { original: line('logstash-plain@example.com') },
    }),
    'filebeat@example.com': JSON.stringify({
      '@timestamp': T,
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.11.0' },
      message: line('filebeat@example.com'),
      log: { offset: 0, file: { path: '/var/log/idp/events.json' } },
      input: { type: 'filestream' },
      ecs: { version: '8.0.0' },
      host: { name: 'web-1' },
      agent: { type: 'filebeat' },
    }),
    'vector@example.com': JSON.stringify({
      file: '/var/log/idp/events.json',
      host: 'web-1',
      message: line('vector@example.com'),
      source_type: 'file',
      timestamp: T,
    }),
    'lines@example.com': `${line('lines@example.com')}\n`,
  };
  const bad: Array<[string, RegExp]> = [
    ['', /^event: must hold a JSON object \(got an empty string\)$/],
    ['   ', /^event: must hold a JSON object \(got only white space\)$/],
    ['[{"type":"bridged","user":"array@example.com"}]', /^event: must hold a JSON object \(got array\)$/],
    ['42', /^event: must hold a JSON object \(got number\)$/],
    ['plain text, not json', /^event: must hold a JSON object \(got text, not JSON\)$/],
    ['{"type":"bridged","user":"broken@example.com"', /^event: invalid JSON/],
    [JSON.stringify({ type: 'bridged', user: 'big@example.com', pad: 'x'.repeat(5000) }), /^event: larger than 4096 characters/],
    [JSON.stringify({ type: 'bridged' }), /^user: required/],
  ];
  await redis.set(lists.a, 'a string, not a list'); // a list that fails every move: seen in /metrics
  const w = await start();
  await redis.rpush(lists.c, ...Object.values(good), ...bad.map(([item]) => item));
  await waitFor(async () => (await readStates(redis, keys, Object.keys(good))).size === Object.keys(good).length, {
    what: 'the good items applied',
    timeout: 60_000,
  });
  const letters = async () =>
    (await redis.xrange(`${prefix}:dead-letter`, '-', '+')).map(([, f]) =>
      Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])),
    );
  await waitFor(async () => (await letters()).length >= bad.length, { what: 'the bad items dead-lettered', timeout: 30_000 });
  const got = await letters();
  expect(got).toHaveLength(bad.length);
  got.forEach((l, i) => {
    expect(l.source_stream).toBe(activity);
    expect(l.reason).toMatch(bad[i]![1]);
  });
  const metric = async (name: string, list: string): Promise<number> => {
    const text = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
    return Number(new RegExp(`^${name}\\{list="${list}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  expect(await metric('riskstream_bridge_moved_total', lists.c)).toBe(Object.keys(good).length + bad.length);
  expect(await metric('riskstream_bridge_backlog', lists.c)).toBe(0);
  expect(await metric('riskstream_bridge_failures_total', lists.a)).toBeGreaterThan(0);
  expect(await metric('riskstream_bridge_failures_total', lists.c)).toBeNaN(); // none
  await redis.del(lists.a);
  await w.stop();
}, 120_000);

it('a reload (SIGHUP) that adds and removes lists while bridging: the running lists go on, each item moved once; the change waits for a restart, said so', async () => {
  for (const old of workers) await old.stop('SIGKILL');
  const tag = 'reload';
  const added = `${prefix}:bridge:d`;
  const w = await start();
  const file = join(cfg.dir, 'riskstream.yaml');
  const original = readFileSync(file, 'utf8');
  try {
    const c = parse(original) as { bridge: { lists: Record<string, string> } };
    c.bridge.lists = { [lists.a]: login, [lists.b]: activity, [added]: activity }; // c removed, d added
    writeFileSync(file, stringify(c));
    await redis.rpush(lists.c, ...Array.from({ length: 3000 }, (_, i) => event(tag, 'c', i)));
    w.child.kill('SIGHUP');
    const reloaded = async () => (await redis.xrange(`${prefix}:audit`, '-', '+')).find(([, f]) => f.includes('config.reloaded'));
    const entry = await waitFor(reloaded, { what: 'the reload applied' });
    expect((JSON.parse(entry[1][entry[1].indexOf('details') + 1]!) as { ignored_until_restart?: string[] }).ignored_until_restart).toEqual(['bridge']);
    await redis.rpush(lists.c, ...Array.from({ length: 1000 }, (_, i) => event(tag, 'c', 3000 + i)));
    await redis.rpush(added, event(tag, 'd', 0));
    await waitFor(async () => (await redis.llen(lists.c)) === 0, { what: 'list c drained', timeout: 30_000 });
    const moved = await inputIds(activity, tag);
    expect(dupes(moved)).toEqual([]);
    expect(moved.length).toBe(4000);
    expect(await redis.llen(added)).toBe(1); // bridged from the next start
    await w.stop();
  } finally {
    writeFileSync(file, original);
  }
}, 120_000);

it("the worker's connection cut after a move ran and before its reply, again and again while lists fill: each item moved once", async () => {
  for (const old of workers) await old.stop('SIGKILL');
  const tag = 'cut';
  const { proxy, url } = await proxyTestRedis();
  try {
    const w = await start({ REDIS_URL: url });
    const pusher = ship(tag, 1000);
    for (const l of ['a', 'b', 'c', 'b', 'a'] as const) await proxy.cutAfterRun((sent) => /EVAL/i.test(sent.toString('latin1')) && sent.includes(lists[l]));
    await pusher;
    await movedOnce(tag, 1000);
    await w.stop();
  } finally {
    await proxy.close();
  }
}, 120_000);

it("SIGTERM while a move's reply is held (Redis slow to answer), the reply then coming within shutdown_timeout: exit 0, each item moved once or still in its list", async () => {
  for (const old of workers) await old.stop('SIGKILL');
  const tag = 'slow';
  let armed = false;
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  const { proxy, url } = await proxyTestRedis({
    stallAfter: (sent) => {
      if (!armed || !/EVAL/i.test(sent.toString('latin1')) || !sent.includes(lists.b)) return false;
      armed = false;
      onHeld();
      return true;
    },
  });
  try {
    const w = await start({ REDIS_URL: url });
    await redis.rpush(lists.b, ...Array.from({ length: 2000 }, (_, i) => event(tag, 'b', i)));
    armed = true; // the next move (of the 80 this backlog takes) has its reply held
    await held;
    const exit = w.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    proxy.resume();
    expect(await exit).toBe(0);
    const inList = (await redis.lrange(lists.b, 0, -1)).map((e) => (JSON.parse(e) as { ref: string }).ref);
    const moved = await inputIds(activity, tag);
    expect(dupes([...moved, ...inList])).toEqual([]);
    expect(moved.length + inList.length).toBe(2000);
  } finally {
    proxy.resume();
    await proxy.close();
  }
}, 120_000);
