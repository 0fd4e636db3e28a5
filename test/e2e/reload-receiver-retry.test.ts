/**
 * A SET retrying across a reload is sent as the running configuration has its receiver at each
 * attempt (docs/operations.md, "Reloading the configuration"): a changed endpoint, audience,
 * subject_format and a rotated signing key apply to its next attempt — the same jti, signed with
 * the new key, verifying against the JWKS —; a receiver removed fails its SETs at their next
 * attempt (`set.failed`, `unknown_receiver`). Real worker, SIGHUP, loopback receiver.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';

const h = workerHarness('reload-receiver-retry', (url) => ({
  receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/first`, audience: 'https://first.test', subject_format: 'email' }],
}));

const audit = async (action: string): Promise<Array<Record<string, unknown>>> =>
  (await h.redis.xrange(`${h.prefix}:audit`, '-', '+'))
    .filter(([, f]) => f[f.indexOf('action') + 1] === action)
    .map(([, f]) => JSON.parse(f[f.indexOf('details') + 1]!) as Record<string, unknown>);
const reload = async (f: (c: Record<string, any>) => void): Promise<void> => {
  const file = join(h.cfg.dir, 'riskstream.yaml');
  const c = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  f(c);
  writeFileSync(file, stringify(c));
  const before = (await audit('config.reloaded')).length;
  h.worker.child.kill('SIGHUP');
  await waitFor(async () => (await audit('config.reloaded')).length > before, { what: 'the reload applied' });
};
const retried = (user: string) => waitFor(async () => (await audit('set.retry')).find((d) => d.user === user), { what: `a retry for ${user}` });

describe('a SET retrying across a reload', () => {
  it('goes to the changed endpoint, audience and subject format, with the same jti, signed with the rotated key', async () => {
    let down = true;
    h.receiver.respond = (s) => (down ? { status: 503 } : { status: s.verified ? 202 : 400 });
    const user = 'retry-a@example.com';
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    const { jti } = await retried(user);
    const first = h.receiver.received.find((s) => s.claims.jti === jti)!;
    expect(first.path).toBe('/first');

    await generateKeyFiles('ES256', join(h.cfg.dir, 'keys'), 'rotated');
    await reload((c) => {
      c.receivers[0] = { ...c.receivers[0], endpoint: `${h.receiver.url}/second`, audience: 'https://second.test', subject_format: 'opaque' };
      c.signing = { ...c.signing, key_file: 'keys/rotated.pem' };
    });
    down = false;
    // The attempt that delivers it, after the reload (one begun while the reload was under way may
    // still carry the previous key: docs/operations.md).
    await waitFor(async () => (await audit('set.delivered')).some((d) => d.jti === jti), { what: 'delivered' });
    const sent = h.receiver.received.filter((s) => s.path === '/second' && s.claims.jti === jti).at(-1)!;
    expect(sent.claims.aud).toBe('https://second.test');
    expect(sent.claims.sub_id).toEqual({ format: 'opaque', id: user });
    expect(sent.header.kid).not.toBe(first.header.kid);
    expect(sent.verified).toBe(true);
  }, 60_000);

  it('fails at its next attempt as unknown_receiver once its receiver is removed', async () => {
    h.receiver.respond = () => ({ status: 503 });
    const user = 'retry-b@example.com';
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    const { jti } = await retried(user);
    await reload((c) => (c.receivers = []));
    const failed = await waitFor(async () => (await audit('set.failed')).find((d) => d.jti === jti), { what: 'the SET failed' });
    expect(failed.outcome).toBe('unknown_receiver');
  }, 60_000);
});
