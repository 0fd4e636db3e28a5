import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';

// A black-box audit: a receiver's credential given through the environment (`authorization_env`,
// or `${VAR}` in `authorization`, as the shipped config advises) is set where the worker runs (its
// unit's environment). The one-shot commands refused to run without it — an operator had to put the
// Okta API token in their own shell to look at a user's level — though only the worker sends SETs.
// And any one-shot command audited the file's receivers as added or changed (`receiver.enabled`,
// `receiver.changed`, actor `config`), though no worker had loaded them: the audit log showed a
// change the running workers did not make, and none when they did make it (reloaded).

const prefix = testPrefix('cli-rx-secret');
const UNSET = 'RISKSTREAM_TEST_UNSET_RX_SECRET';
const dir = mkdtempSync(join(tmpdir(), 'riskstream-cli-rx-'));
writeFileSync(
  join(dir, 'riskstream.yaml'),
  [
    `redis: { prefix: ${prefix} }`,
    'http: { port: 0, host: 127.0.0.1 }',
    'receivers:',
    '  - { name: siem, kind: ssf, endpoint: https://siem.example/events, authorization_env: ' + UNSET + ' }',
    '  - { name: other, kind: ssf, endpoint: https://other.example/events, authorization: "Bearer ${' + UNSET + '}" }',
    'log_level: warn',
    '',
  ].join('\n'),
);
const redis = redisClient();

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("one-shot commands do not need the receivers' credentials", () => {
  it('risk list and audit tail run without the variable; config check (and the worker) still refuse it', async () => {
    delete process.env[UNSET];
    const list = await runInProcess(['risk', 'list', '--config', dir]);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const audit = await runInProcess(['audit', 'tail', '--config', dir]);
    expect(audit.code).toBe(0);
    const check = await runInProcess(['config', 'check', '--config', dir]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`environment variable ${UNSET} is not set`);
    expect(() => loadConfig(dir)).toThrow(new RegExp(`environment variable ${UNSET} is not set`));
  });

  it('a one-shot command audits no receiver: only a worker starting or reloading with them does', async () => {
    delete process.env[UNSET];
    expect((await runInProcess(['risk', 'list', '--config', dir])).code).toBe(0);
    const entries = await redis.xrange(`${prefix}:audit`, '-', '+');
    expect(entries.map(([, f]) => f[f.indexOf('action') + 1]).filter((a) => a?.startsWith('receiver.'))).toEqual([]);
  });

  it('the receivers stay configured (a revoke or a reset from the CLI still queues their SETs), without a credential', () => {
    delete process.env[UNSET];
    const c = loadConfig(dir, process.env, { receiverSecrets: false });
    expect(c.receivers.map((r) => r.name)).toEqual(['siem', 'other']);
    expect(c.receivers.map((r) => r.authorizationValue)).toEqual([undefined, undefined]);
  });
});
