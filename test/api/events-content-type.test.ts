import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

// POST /v1/events reads its body as JSON / NDJSON whatever the type says, except the types it
// cannot read (MessagePack, multipart): those are 415 unsupported_media_type, as on every other route.
const prefix = testPrefix('api-events-content-type');
const redis = redisClient();
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix);
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const event = (i: number) => ({ type: 'access', user: `ct-${i}@example.com`, time: new Date().toISOString(), outcome: 'denied', app: 'payroll' });
const ndjson = [event(1), event(2)].map((e) => JSON.stringify(e)).join('\n');
const post = (body: string | Buffer, headers: Record<string, string>) => call(w.url, '/v1/events', { method: 'POST', token: w.cfg.ingestToken, body, headers });

describe('POST /v1/events: content types it does not read', () => {
  it.each([
    'application/msgpack',
    'application/x-msgpack',
    'Application/MsgPack; charset=binary',
    // MessagePack's registered type (IANA, 2024) and its deprecated alias: read as JSON before, every
    // record dead-lettered and a 202 (found by an outside-in audit of README's POST /v1/events row).
    'application/vnd.msgpack',
    'application/x+msgpack',
    'multipart/form-data; boundary=xyz',
    'multipart/mixed; boundary=xyz',
  ])('%s → 415 unsupported_media_type, with a hint, nothing appended', async (type) => {
    const before = await redis.xlen(`${prefix}:activity`);
    const r = await post(ndjson, { 'content-type': type });
    expect(isApiError(r, 415, 'unsupported_media_type')).toBe(true);
    expect(r.json.message).toMatch(/json_lines/);
    expect(await redis.xlen(`${prefix}:activity`)).toBe(before);
  });
});

describe('POST /v1/events: the types it reads stay read', () => {
  it.each<[string, Record<string, string>, string | Buffer]>([
    ['no Content-Type', {}, Buffer.from(ndjson)],
    ['application/x-ndjson', { 'content-type': 'application/x-ndjson' }, ndjson],
    ['application/json (NDJSON)', { 'content-type': 'application/json' }, ndjson],
    ['application/json (array)', { 'content-type': 'application/json' }, JSON.stringify([event(1), event(2)])],
    ['text/plain', { 'content-type': 'text/plain;charset=UTF-8' }, ndjson],
    ['a form type (curl -d)', { 'content-type': 'application/x-www-form-urlencoded' }, ndjson],
    ['a +json type', { 'content-type': 'application/vnd.example+json' }, ndjson],
    ['application/jsonlines', { 'content-type': 'application/jsonlines' }, ndjson],
    ['application/octet-stream', { 'content-type': 'application/octet-stream' }, ndjson],
    ['application/gzip (gzip without Content-Encoding)', { 'content-type': 'application/gzip' }, gzipSync(ndjson)],
    ['gzip with Content-Encoding', { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, gzipSync(ndjson)],
  ])('%s → 202', async (_name, headers, body) => {
    const r = await post(body, headers);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json).toMatchObject({ accepted: 2, rejected: 0 });
  });
});
