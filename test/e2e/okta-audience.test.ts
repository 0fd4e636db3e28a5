/**
 * SSF.md (Okta ITP as receiver): a SET's `aud` is the Okta org URL (`https://{org}`), and Okta
 * receives at `POST https://{org}/security/api/v1/security-events`. A `kind: okta` receiver
 * configured with that `endpoint` and no `org_url` or `audience` was sent the whole endpoint URL
 * as `aud` (the default of kind ssf), which Okta refuses (`invalid_audience`): its audience is the
 * endpoint's origin, the org URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { OKTA_USER_RISK_CHANGE } from '../../src/ssf/set-builder.js';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';

const rsa = mkdtempSync(join(tmpdir(), 'riskstream-okta-aud-'));
await generateKeyFiles('RS256', rsa, 'okta');
afterAll(() => rmSync(rsa, { recursive: true, force: true }));

const h = workerHarness('okta-audience', (url) => ({
  signing: { key_file: 'keys/signing.pem', alg: 'ES256', keys: [{ key_file: join(rsa, 'okta.pem'), alg: 'RS256' }] },
  receivers: [{ name: 'okta', kind: 'okta', endpoint: `${url}/security/api/v1/security-events` }],
}));

describe('kind okta with an endpoint and no org_url / audience', () => {
  it("signs for the org URL (the endpoint's origin), as Okta expects", async () => {
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('aud@example.com'));
    const set = await waitFor(() => h.receiver.received[0], { what: 'the SET' });
    expect(set.verified).toBe(true);
    expect(set.path).toBe('/security/api/v1/security-events');
    expect(eventOf(set).type).toBe(OKTA_USER_RISK_CHANGE);
    expect(set.claims.aud).toBe(h.receiver.url);
  });
});
