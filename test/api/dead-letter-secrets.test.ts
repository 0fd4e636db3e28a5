/**
 * A dead letter keeps the refused entry, scrubbed of secret-named fields and token-shaped values —
 * and of the worker's own secrets whatever their shape (found by a black-box review: an admin token
 * of lower-case letters and digits, the shape `openssl rand -hex` gives, stayed in the dead letter
 * of a record that held it). Both writers: POST /v1/events (a record refused at ingest) and the
 * router (an input stream entry that is no event).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { call, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-dead-letter-secrets');
const redis = redisClient();
const receiverCredential = 'rcv-credential-deadletter-0123';
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix, {
    receivers: [
      { name: 'siem', kind: 'ssf', endpoint: 'http://127.0.0.1:9/siem', audience: 'https://siem.example', authorization: `Bearer ${receiverCredential}` },
    ],
  });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const deadLetters = async (): Promise<string> => JSON.stringify(await redis.xrange(`${prefix}:dead-letter`, '-', '+'));

describe('dead letters and the worker’s own secrets', () => {
  it('a record refused at ingest or by the router keeps neither an API token nor a receiver credential', async () => {
    const admin = w.cfg.adminToken;
    const body = [`not json ${admin}`, JSON.stringify({ type: 'login', note: `${admin} ${receiverCredential}` })].join('\n');
    const r = await call(w.url, '/v1/events', { token: w.cfg.ingestToken, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(r.status).toBe(202);
    expect(r.json.rejected).toBe(2);
    await redis.xadd(`${prefix}:login`, '*', 'event', `broken ${admin}`, 'note', receiverCredential);
    await waitFor(async () => (await redis.xlen(`${prefix}:dead-letter`)) >= 3, { what: 'three dead letters' });
    const text = await deadLetters();
    expect(text).not.toContain(admin);
    expect(text).not.toContain(receiverCredential);
    expect(text).toContain(`not json [redacted token]`);
    expect(text).toContain(`broken [redacted token]`);
    expect(text).toContain('"orig.note","[redacted token]"');
    expect(text).toContain('user: required'); // the reason is still said
  });
});
