import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../obs/logger.js';
import { generateKeyFiles } from '../ssf/keys.js';
import { LocalReceiver, eventOf } from '../ssf/local-receiver.js';
import { replayFile } from '../ingest/replay.js';
import { startWorker } from '../runtime/worker.js';
import { purgePrefix } from '../redis/purge.js';
import { groupBacklog } from '../redis/stream-info.js';
import { Keys } from '../keys.js';
import { SET_DELIVERY_QUEUE } from '../ssf/queue.js';
import { RiskstreamError } from '../errors.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  root: string;
  telemetry: string;
  out: NodeJS.WritableStream;
  keep?: boolean;
}

async function reachable(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * A Redis URL as it may be printed: its `user:password@` (a credential) replaced, never shown —
 * up to the last `@` before the path, so a password holding a raw `@` is not half shown.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)?[^/]*@/i, '$1[redacted]@');
}

/** Uses REDIS_URL or 127.0.0.1:6379; else starts a throw-away `redis-server` if one is installed. */
async function demoRedis(out: NodeJS.WritableStream): Promise<{ url: string; child?: ChildProcess }> {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379'; // empty is unset, as for the worker
  if (await reachable(url)) return { url };
  if (process.env.REDIS_URL) throw new RiskstreamError('UNAVAILABLE', `REDIS_URL ${withoutCredentials(url)} does not answer`);
  const port = 16379 + Math.floor(Math.random() * 1000);
  out.write(`no Redis on 127.0.0.1:6379; starting redis-server on port ${port}\n`);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const local = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await reachable(local)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await reachable(local))) throw new RiskstreamError('UNAVAILABLE', 'could not start redis-server (install it: apt-get install redis-server)');
  return { url: local, child };
}

/**
 * The demo: local Redis, a fresh key, the worker, two local receivers (an SSF one and an
 * Okta-shaped one) verifying every SET against the worker's JWKS, a replay of realistic
 * telemetry, then a readable summary. Returns the exit code (0 when every SET verified).
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const { out } = opts;
  const redisInfo = await demoRedis(out);
  const dir = resolve(opts.root, '.demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const prefix = `demo-${Date.now().toString(36)}`;
  await generateKeyFiles('ES256', join(dir, 'keys'), 'signing');
  await generateKeyFiles('RS256', join(dir, 'keys'), 'okta-rs256');
  const ssf = new LocalReceiver({ audience: 'https://receiver.demo.local', issuer: 'https://riskstream.demo.local' });
  const okta = new LocalReceiver({ audience: 'https://example.okta.com', issuer: 'https://riskstream.demo.local' });
  const [ssfUrl, oktaUrl] = [await ssf.listen(), await okta.listen()];
  writeFileSync(
    join(dir, 'riskstream.yaml'),
    stringify({
      redis: { url: redisInfo.url, prefix },
      http: { port: 0, host: '127.0.0.1' },
      signing: { key_file: 'keys/signing.pem', alg: 'ES256', keys: [{ key_file: 'keys/okta-rs256.pem', alg: 'RS256' }] },
      issuer: 'https://riskstream.demo.local',
      streams: { block: '100ms' },
      receivers: [
        { name: 'local-ssf', kind: 'ssf', endpoint: `${ssfUrl}/events`, audience: 'https://receiver.demo.local', subject_format: 'email' },
        { name: 'okta-sim', kind: 'okta', endpoint: `${oktaUrl}/security/api/v1/security-events`, audience: 'https://example.okta.com' },
      ],
      log_level: 'warn',
    }),
  );
  writeFileSync(join(dir, 'behaviors.yaml'), demoBehaviors(opts.root));
  const config = loadConfig(dir, { ...process.env, REDIS_URL: redisInfo.url });
  const worker = await startWorker({ config, logger: createLogger(process.env.RISKSTREAM_DEMO_LOG ?? 'error'), port: 0, host: '127.0.0.1', consumer: 'demo' });
  ssf.setJwks(`${worker.url}/.well-known/jwks.json`);
  okta.setJwks(`${worker.url}/.well-known/jwks.json`);
  const redis = new Redis(redisInfo.url);
  out.write(`riskstream demo — worker ${worker.url}, Redis ${withoutCredentials(redisInfo.url)}, key prefix ${prefix}\n`);
  try {
    const started = Date.now();
    const r = await replayFile(redis, config.streams, opts.telemetry, { rebase: Date.now() });
    out.write(`replayed ${r.sent} events from ${opts.telemetry}\n`);
    await settle(redis, config, worker, () => ssf.received.length + okta.received.length);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    return await summary(
      redis,
      config,
      [
        ['local-ssf', ssf],
        ['okta-sim', okta],
      ],
      out,
      secs,
    );
  } finally {
    await worker.close();
    await Promise.all([ssf.close(), okta.close()]);
    if (!opts.keep) await purgePrefix(redis, prefix);
    redis.disconnect();
    redisInfo.child?.kill();
    if (opts.keep) out.write(keptNote(prefix, dir, redisInfo.child !== undefined));
  }
}

/**
 * What `--keep` left, said at the end: the prefix, the configuration that reads it (in `.demo/`)
 * and how to delete the keys — or, with a throw-away `redis-server`, that nothing could be kept.
 */
export function keptNote(prefix: string, dir: string, ownRedis: boolean): string {
  if (ownRedis) return `--keep: nothing kept: the demo's own redis-server (no persistence) stopped with it\n`;
  return (
    `--keep: the demo's keys stay in Redis under the prefix ${prefix}; its configuration is in ${dir}:\n` +
    `  npx riskstream risk list --config ${dir}\n` +
    `  delete them: redis-cli --scan --pattern '*${prefix}*' | xargs -r redis-cli unlink\n`
  );
}

/**
 * The shipped behaviors file as an admin would run it, plus the response the shipped file offers
 * commented out: a hijacked session revokes the user's sessions.
 */
function demoBehaviors(root: string): string {
  const shipped = readFileSync(join(root, 'config', 'behaviors.yaml'), 'utf8');
  return `${shipped}\n${stringify({ responses: [{ when: { behavior: 'session_hijack' }, revoke_sessions: true }] })}`;
}

async function settle(
  redis: Redis,
  config: ReturnType<typeof loadConfig>,
  worker: Awaited<ReturnType<typeof startWorker>>,
  delivered: () => number,
): Promise<void> {
  let quietSince = 0;
  let last = -1;
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const backlog = await groupBacklog(redis, config.streams.inputs, config.streams.group);
    const busy = backlog.pending + backlog.lag;
    const keys = new Keys(config.prefix, config.raw.engine.partitions);
    const q = await redis.zcard(keys.bullKey(SET_DELIVERY_QUEUE, 'delayed'));
    const waiting = await redis.llen(keys.bullKey(SET_DELIVERY_QUEUE, 'wait'));
    const active = await redis.llen(keys.bullKey(SET_DELIVERY_QUEUE, 'active'));
    const n = delivered();
    if (busy === 0 && q + waiting + active === 0 && n === last) {
      if (!quietSince) quietSince = Date.now();
      if (Date.now() - quietSince > 1000) return;
    } else quietSince = 0;
    last = n;
    void worker;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** ", N revoked by policy (users)" from the audit log's entries whose actor is `policy`, or "". */
async function revokedByPolicy(redis: Redis, audit: string): Promise<string> {
  const rows = (await redis.xrange(audit, '-', '+')) as Array<[string, string[]]>;
  const users = new Set<string>();
  let n = 0;
  for (const [, f] of rows) {
    const get = (k: string): string | undefined => {
      const i = f.indexOf(k);
      return i >= 0 && i % 2 === 0 ? f[i + 1] : undefined;
    };
    if (get('actor') !== 'policy' || !/revoke/.test(get('action') ?? '')) continue;
    n++;
    const target = get('target') ?? get('user');
    if (target) users.add(target);
  }
  return n ? `, ${n} revoked by policy${users.size ? ` (${[...users].join(', ')})` : ''}` : '';
}

async function summary(
  redis: Redis,
  config: ReturnType<typeof loadConfig>,
  receivers: Array<[string, LocalReceiver]>,
  out: NodeJS.WritableStream,
  secs: string,
): Promise<number> {
  const dead = await redis.xlen(config.streams.deadLetter);
  const feed = (await redis.xrange(config.streams.riskEvents, '-', '+')) as Array<[string, string[]]>;
  const hits = new Map<string, number>();
  const changes: string[] = [];
  for (const [, f] of feed) {
    const kind = f[f.indexOf('kind') + 1];
    const data = JSON.parse(f[f.indexOf('data') + 1] ?? '{}') as Record<string, unknown>;
    if (kind === 'hit') hits.set(String(data.behavior), (hits.get(String(data.behavior)) ?? 0) + 1);
    else
      changes.push(
        `  ${String(data.user).padEnd(24)} ${String(data.previous).toUpperCase().padEnd(6)} → ${String(data.current).toUpperCase().padEnd(6)} ${String(data.reason ?? '')}`,
      );
  }
  const read = (await Promise.all(config.streams.inputs.map((s) => redis.xlen(s)))).reduce((a, b) => a + b, 0);
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  const sessions = (await Promise.all(keys.partitionList.map((p) => redis.zcard(keys.sessionsByExpiry(p))))).reduce((a, b) => a + b, 0);
  out.write(`\nprocessed ${read} events in ${secs} s (${dead} dead-lettered with a reason)\n`);
  out.write(`sessions audited: ${sessions} active${await revokedByPolicy(redis, config.streams.audit)}\n`);
  out.write(`behaviors hit:\n${[...hits].map(([b, n]) => `  ${b.padEnd(24)} ${n}`).join('\n') || '  none'}\n`);
  out.write(`risk changes:\n${changes.join('\n') || '  none'}\n`);
  let ok = changes.length > 0;
  const finalLevels = new Map<string, string>();
  for (const [, f] of feed) {
    const data = JSON.parse(f[f.indexOf('data') + 1] ?? '{}') as Record<string, unknown>;
    if (f[f.indexOf('kind') + 1] === 'change') finalLevels.set(String(data.user), String(data.current));
  }
  out.write('SETs delivered (a newer level supersedes one not yet sent):\n');
  for (const [name, r] of receivers) {
    const verified = r.received.filter((s) => s.verified).length;
    const types = [...new Set(r.received.map((s) => eventOf(s).type.split('/').pop()))].join(', ');
    out.write(`  ${name.padEnd(10)} ${r.received.length} received, ${verified} signature-verified against the JWKS (${types})\n`);
    for (const s of r.received.filter((x) => !x.verified)) out.write(`    NOT VERIFIED: ${s.error}\n`);
    if (verified !== r.received.length) ok = false;
    // Each receiver must end holding every user's final level.
    const last = new Map<string, string>();
    for (const s of r.received) {
      const level = eventOf(s).body.current_level;
      if (level === undefined) continue; // not a level change (a session-revoked SET)
      const sub = (s.claims.sub_id ?? {}) as { email?: string };
      last.set(String(sub.email), String(level).toLowerCase());
    }
    for (const [user, level] of finalLevels) {
      if (last.get(user) !== level) {
        out.write(`    ${user}: receiver holds ${last.get(user) ?? 'nothing'}, expected ${level}\n`);
        ok = false;
      }
    }
  }
  out.write(ok ? '\ndemo OK\n' : '\ndemo FAILED: see above\n');
  return ok ? 0 : 1;
}
