import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Keys } from '../../src/keys.js';
import { auditReceivers } from '../../src/ssf/receiver-audit.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { testReceiver } from './helpers.js';

const prefix = testPrefix('receiver-audit');
const redis = redisClient();
const keys = new Keys(prefix);
const audit = new AuditLog(redis, `${prefix}:audit`);
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

const actions = async (): Promise<string[]> =>
  (await redis.xrange(`${prefix}:audit`, '-', '+')).map(([, f]) => `${f[f.indexOf('action') + 1]} ${f[f.indexOf('target') + 1]}`);

describe('auditReceivers', () => {
  it('several workers reloading at once audit each receiver change once', async () => {
    const deps = { redis, keys, audit };
    const a = testReceiver('okta', 'http://127.0.0.1:1/a');
    const b = testReceiver('soc', 'http://127.0.0.1:1/b');
    // Three workers start together.
    await Promise.all([1, 2, 3].map(() => auditReceivers(deps, [a, b])));
    expect((await actions()).sort()).toEqual(['receiver.enabled okta', 'receiver.enabled soc']);
    // Then all reload: okta's endpoint changed, soc removed.
    const a2 = testReceiver('okta', 'http://127.0.0.1:1/a2');
    await Promise.all([1, 2, 3].map(() => auditReceivers(deps, [a2])));
    expect((await actions()).slice(2).sort()).toEqual(['receiver.changed okta', 'receiver.disabled soc']);
    // Nothing changed: nothing audited.
    await Promise.all([1, 2].map(() => auditReceivers(deps, [a2])));
    expect(await actions()).toHaveLength(4);
  });

  it('turning a configured receiver off and on again is audited as receiver.disabled, then receiver.enabled', async () => {
    const deps = { redis, keys: new Keys(`${prefix}:toggle`), audit };
    const before = (await actions()).length;
    const on = testReceiver('okta-itp', 'http://127.0.0.1:1/itp');
    await auditReceivers(deps, [on]);
    await auditReceivers(deps, [{ ...on, enabled: false }]);
    await auditReceivers(deps, [{ ...on, enabled: false, audience: 'https://other.example' }]);
    await auditReceivers(deps, [on]);
    expect((await actions()).slice(before)).toEqual([
      'receiver.enabled okta-itp',
      'receiver.disabled okta-itp',
      'receiver.changed okta-itp',
      'receiver.enabled okta-itp',
    ]);
  });
});
