/**
 * What grows in Redis with time (docs/operations.md "Trimming"): a real worker (from source) fed
 * simulated months of churn — spray usernames, the same staff with incidents and sessions, new
 * users each month with an incident (version > 0) or a hit arriving expired (version 0, risk
 * events), dead letters, SETs to a loopback receiver answering 202 / 400 / 503 —, input entry ids
 * = event times. A simulated month is 5 days (ids older than 30 days count as "now"), the idle TTL
 * 4d; the prefix's and its BullMQ queue's keys are grouped by family and measured after each month
 * (keys, MEMORY USAGE, XLEN / ZCARD / HLEN / SCARD). Expiries the sweep makes are stamped with its
 * wall clock, so a user whose level changed looks recent here (test/engine/forget-idle.test.ts
 * covers its retention with a frozen clock); wall-clock bounds (BullMQ jobs, session TTLs, input
 * trimming) do not act within a run.
 * `npx tsx bench/growth.ts [months] ['{"risk_event_retention":"8d"}']` (state.* overrides as JSON).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { Keys } from '../src/keys.js';
import { generateKeyFiles } from '../src/ssf/keys.js';
import { cleanup, REDIS_URL, redisClient, testPrefix, waitFor } from '../test/helpers/redis.js';
import { startReceiver } from '../test/helpers/receiver.js';

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN = 'admin-bench-growth-0123456789abcdef';

/** A config directory: `main` over a test-like riskstream.yaml, `behaviors`, a fresh signing key. */
async function writeConfig(prefix: string, main: Record<string, unknown>, behaviors: Record<string, unknown>): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-growth-'));
  await generateKeyFiles('ES256', join(dir, 'keys'), 'signing');
  const cfg = {
    redis: { url: REDIS_URL, prefix },
    signing: { key_file: 'keys/signing.pem', alg: 'ES256' },
    issuer: 'https://riskstream.test',
    streams: { block: '200ms', claim_idle: '2s' },
    log_level: 'warn',
    http: { port: 0, host: '127.0.0.1', admin_tokens: [ADMIN] },
    ...main,
  };
  writeFileSync(join(dir, 'riskstream.yaml'), stringify(cfg));
  writeFileSync(join(dir, 'behaviors.yaml'), stringify(behaviors));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `riskstream worker` (from source), started and serving: its URL. */
async function spawnWorker(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'worker', '--config', dir], {
    cwd: ROOT,
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(out)) : undefined), {
    timeout: 45_000,
    what: 'worker start',
  });
  return { url, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

/** A simulated month: 5 days (input entry ids older than 30 days count as "now"), retention scaled alike. */
const MONTH = 5 * 86_400_000;
const months = Number(process.argv[2] ?? 4);
const state = process.argv[3] ? (JSON.parse(process.argv[3]) as Record<string, unknown>) : {};
const prefix = testPrefix('bench-growth');
const keys = new Keys(prefix, 2);
const redis = redisClient();

function family(key: string): string {
  return (key.startsWith('{') ? `{}${key.slice(prefix.length + 2)}` : key.slice(prefix.length))
    .replace(/:u:\{[^}]*\}/, ':u:{<user>}')
    .replace(/:u:[^:]+@[^:]+/, ':u:<user>')
    .replace(/:ip:\{[^}]*\}/, ':ip:{<ip>}')
    .replace(/session:[^:]+$/, 'session:<id>')
    .replace(/:seen:.*$/, ':seen:<id>')
    .replace(
      /(bull:[^:]+:)(?!(events|meta|id|wait|active|delayed|completed|failed|paused|prioritized|marker|stalled|stalled-check|pc|limiter)$)[^:]+/,
      '$1<job>',
    )
    .replace(/:[0-9a-f-]{20,}/g, ':<id>')
    .replace(/\d{6,}/g, '<n>');
}

async function measure(): Promise<Map<string, { n: number; bytes: number; members: number }>> {
  const out = new Map<string, { n: number; bytes: number; members: number }>();
  for (const pattern of [`${prefix}*`, `{${prefix}}*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) {
        const f = family(k);
        const type = await redis.type(k);
        const bytes = Number((await redis.memory('USAGE', k)) ?? 0);
        const members =
          type === 'stream'
            ? await redis.xlen(k)
            : type === 'zset'
              ? await redis.zcard(k)
              : type === 'hash'
                ? await redis.hlen(k)
                : type === 'set'
                  ? await redis.scard(k)
                  : type === 'list'
                    ? await redis.llen(k)
                    : 1;
        const e = out.get(f) ?? { n: 0, bytes: 0, members: 0 };
        e.n++;
        e.bytes += bytes;
        e.members += members;
        out.set(f, e);
      }
    } while (cursor !== '0');
  }
  return out;
}

const rx = await startReceiver({ audience: 'https://rx.test', issuer: 'https://riskstream.test' });
let sent = 0;
rx.respond = () =>
  ++sent % 5 === 0 ? { status: 400, body: { err: 'invalid_request', description: 'no' } } : sent % 7 === 0 ? { status: 503 } : { status: 202 };
const cfg = await writeConfig(
  prefix,
  {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${rx.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
    state: { sweep_interval: '100ms', idle_user_ttl: '4d', ...state },
    engine: { partitions: 2 },
    delivery: { backoff_base: '50ms', backoff_max: '200ms' },
  },
  {
    endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
    dlp_detection: { enabled: true, risk_level: 'low', expires_after: '24h', min_severity: 'high' },
    brute_force: { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' },
  },
);
const worker = await spawnWorker(cfg.dir);
rx.setJwks(`${worker.url}/.well-known/jwks.json`);
const t0 = Date.now() - (months + 1) * MONTH - 86_400_000;
const rows: string[] = [];
let last = '';
try {
  for (let m = 0; m <= months; m++) {
    const base = t0 + m * MONTH;
    let t = base;
    const add = async (ev: Record<string, unknown>, stream = 'login', lateBy = 0): Promise<void> => {
      t += 1000;
      last = `${t}-0`;
      await redis.xadd(`${prefix}:${stream}`, last, 'event', JSON.stringify({ ...ev, time: t - lateBy }));
    };
    for (let i = 0; i < 200; i++) await add({ type: 'login', user: `spray-${m}-${i}@x.test`, outcome: 'failure', ip: '203.0.113.7' });
    // Real users, the same each month: incidents (high, expires a day later: two level changes).
    for (let i = 0; i < 20; i++)
      await add({ type: 'endpoint', user: `staff-${i}@x.test`, device: { id: 'd' }, vendor: 'cs', detection: 'm', severity: 'critical' }, 'activity');
    // New users each month (contractors, turnover): one incident, one low hit (version 0, risk events).
    for (let i = 0; i < 30; i++)
      await add({ type: 'endpoint', user: `temp-${m}-${i}@x.test`, device: { id: 'd' }, vendor: 'cs', detection: 'm', severity: 'critical' }, 'activity');
    // (Their hits arrive two days late, already expired: the sweep's own clock, not this input's, would expire them.)
    for (let i = 0; i < 30; i++) await add({ type: 'dlp', user: `low-${m}-${i}@x.test`, severity: 'high', policy: 'p' }, 'activity', 2 * 86_400_000);
    for (let i = 0; i < 20; i++)
      await add({
        type: 'login',
        user: `staff-${i}@x.test`,
        outcome: 'success',
        ip: '198.51.100.1',
        session: { id: `s-${m}-${i}`, expires_at: new Date(t + 3_600_000).toISOString() },
      });
    for (let i = 0; i < 5; i++) await add({ type: 'bogus' });
    // A day later: the hits expire.
    t = base + 2 * 86_400_000;
    await add({ type: 'login', user: 'clock@x.test', outcome: 'failure', ip: '192.0.2.1' });
    await waitFor(
      async () => {
        const pos = await Promise.all(keys.partitionList.map((p) => redis.hget(keys.partitionPos(p), 'pos')));
        return pos.some((x) => x && x >= last.split('-')[0]!) || null;
      },
      { timeout: 120_000, what: `month ${m} applied` },
    );
    // Last: admin resets and revoke-alls of a few staff users (control entries are stamped now: later
    // input stamped in the past would be routed behind them, late).
    if (m === months)
      for (let i = 0; i < 3; i++) {
        const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
        const user = encodeURIComponent(`staff-${i}@x.test`);
        await fetch(`${worker.url}/v1/users/${user}/risk/reset`, { method: 'POST', headers, body: JSON.stringify({ reason: 'bench' }) });
        await fetch(`${worker.url}/v1/users/${user}/sessions`, { method: 'DELETE', headers });
      }
    await new Promise((r) => setTimeout(r, 3000));
    const got = await measure();
    for (const [f, e] of [...got].sort()) rows.push(`${m}\t${f}\t${e.n}\t${e.bytes}\t${e.members}`);
    console.log(`month ${m} measured`);
  }
  console.log('month\tfamily\tkeys\tbytes\tmembers');
  console.log(rows.join('\n'));
} finally {
  await worker.stop();
  await rx.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg.remove();
}
