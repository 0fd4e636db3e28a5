/**
 * SIGHUP with settings read only at start changed: they keep their running values everywhere (HTTP
 * ingest, dead letters, readiness), not only in the engine; and a reload whose signing keys cannot
 * be read is refused whole (nothing of it applied), audited and counted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, userRisk, workerHarness } from '../helpers/worker.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';

const h = workerHarness('reload-start-only');

const file = (): string => join(h.cfg.dir, 'riskstream.yaml');
const edit = (f: (c: Record<string, any>) => void): void => {
  const c = parse(readFileSync(file(), 'utf8')) as Record<string, any>;
  f(c);
  writeFileSync(file(), stringify(c));
};
const admin = (path: string, init: RequestInit = {}, token = h.cfg.adminToken) =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
const auditActions = async (): Promise<string[]> => (await h.redis.xrange(`${h.prefix}:audit`, '-', '+')).map(([, f]) => f[f.indexOf('action') + 1]!);

describe('SIGHUP and start-only settings', () => {
  it('stream names and the key prefix keep their running values: HTTP ingest still writes where the router reads', async () => {
    edit((c) => {
      c.streams = { ...c.streams, login: `${h.prefix}:login2`, dead_letter: `${h.prefix}:dl2` };
      c.redis = { ...c.redis, prefix: `${h.prefix}x` };
    });
    h.worker.child.kill('SIGHUP');
    await waitFor(async () => (await auditActions()).includes('config.reloaded'), { what: 'the reload applied' });
    expect(h.worker.output()).toMatch(/read only at start/);
    // The entry names the worker that reloaded (each has its own copy of the configuration).
    const entry = (await h.redis.xrange(`${h.prefix}:audit`, '-', '+')).find(([, f]) => f.includes('config.reloaded'))!;
    const details = JSON.parse(entry[1][entry[1].indexOf('details') + 1]!) as { worker?: string; ignored_until_restart?: string[] };
    expect(details.worker).toEqual(expect.any(String));
    expect(details.ignored_until_restart).toEqual(['redis', 'streams.login', 'streams.dead_letter']);
    const body = criticalDetection('so@example.com');
    const login = JSON.stringify({ type: 'login', user: 'so@example.com', time: Date.now() - 1000, ip: '81.2.69.142' });
    const r = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: `${body}\n${login}\nnot json\n`,
    });
    expect(r.status).toBe(202);
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, 'so@example.com')).level === 'high', { what: 'scored' });
    // An entry the router (in its own thread) cannot decode: dead-lettered where the worker started, too.
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', '{not json');
    await waitFor(async () => (await h.redis.xlen(`${h.prefix}:dead-letter`)) === 2, { what: "the router's dead letter" });
    // Nothing went to the names the files now give.
    for (const k of [`${h.prefix}:login2`, `${h.prefix}:dl2`, `${h.prefix}x:activity`]) expect(await h.redis.exists(k), k).toBe(0);
    expect((await fetch(`${h.worker.url}/readyz`)).status).toBe(200);
  });

  it('a reload naming a signing key that cannot be read is refused whole: the new token does not work, the issuer stays', async () => {
    const newToken = `new-admin-token-${h.prefix}`;
    edit((c) => {
      c.http = { ...c.http, admin_tokens: [...c.http.admin_tokens, newToken] };
      c.issuer = 'https://changed.example.com';
      c.signing = { ...c.signing, keys: [{ key_file: 'keys/missing.pem', alg: 'RS256' }] };
    });
    const refusedBefore = (await auditActions()).filter((a) => a === 'config.reload_refused').length;
    h.worker.child.kill('SIGHUP');
    await waitFor(async () => (await auditActions()).filter((a) => a === 'config.reload_refused').length === refusedBefore + 1, { what: 'refused' });
    expect((await admin('/v1/users', {}, newToken)).status).toBe(401);
    const meta = (await (await fetch(`${h.worker.url}/.well-known/ssf-configuration`)).json()) as { issuer: string };
    expect(meta.issuer).toBe('https://riskstream.test');
    const metrics = await (await admin('/metrics')).text();
    expect(metrics).toMatch(/riskstream_config_reloads_total\{result="refused"\} 1/);
    expect(h.worker.child.exitCode).toBeNull();
  });

  it('a reload giving the signing kid to a new key is refused (found by a black-box review: the old key left the JWKS under that kid, and SETs it signed no longer verified)', async () => {
    const jwks = async (): Promise<Array<Record<string, string>>> =>
      ((await (await fetch(`${h.worker.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> }).keys;
    const [current] = await jwks();
    await generateKeyFiles('ES256', join(h.cfg.dir, 'keys'), 'rotated');
    edit((c) => {
      c.signing = { ...c.signing, key_file: 'keys/rotated.pem', kid: current!.kid, keys: [] };
    });
    const refusedBefore = (await auditActions()).filter((a) => a === 'config.reload_refused').length;
    h.worker.child.kill('SIGHUP');
    await waitFor(async () => (await auditActions()).filter((a) => a === 'config.reload_refused').length === refusedBefore + 1, { what: 'refused' });
    // The log line may reach the pipe after the audit entry (or the count above may have met the
    // previous test's refusal, audited late on a busy machine): waited for, not read once.
    await waitFor(async () => /already names another published key/.test(h.worker.output()), { what: 'the refusal logged' });
    expect(await jwks()).toContainEqual(current);
    expect(h.worker.child.exitCode).toBeNull();
  });
});
