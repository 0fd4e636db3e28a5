import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { isApiError, startApiWorker, type ApiWorker } from './helpers.js';

// SSF 1.0 §8.1.1.3: a PATCH updates the Receiver-Supplied properties it names and leaves the
// others unchanged — also inside `delivery`, where a push stream's endpoint_url is the receiver's.
//
// And what a create (POST) must name, per §8.1.1.1 and §8.1.1. Without `delivery` the transmitter
// "MUST assume that the method is urn:ietf:rfc:8936 (poll)", which riskstream does not offer ("it
// MAY respond with HTTP Status Code 400"); a `delivery` without its `method` names no method at
// all: it was accepted as push, now 400 bad_request (and so is a PUT, a whole configuration,
// without `delivery.method`). `stream_id` is Transmitter-Supplied ("A Transmitter MUST generate a
// unique ID … at the time of stream creation"): one in a create was silently ignored; now 400
// transmitter_supplied, and no stream is created.
const prefix = testPrefix('api-ssf-patch-delivery');
const redis = redisClient();
const token = 'ssf-token-patch-delivery-tests-0123456';
const POLL = 'urn:ietf:rfc:8936';
const ENDPOINT = 'http://127.0.0.1:9/push';
let w: ApiWorker;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  w = await startApiWorker(prefix, { http: { ssf_tokens: [token] }, ssf: { allowed_endpoints: ['127.0.0.1'] } });
  api = apiClient(() => w.url, token);
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

async function stream(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: ENDPOINT, ...extra }, events_requested: [CAEP_RISK] });
  expect(r.status).toBe(201);
  return r.json.stream_id as string;
}

describe('PATCH /ssf/streams with a delivery object that leaves out endpoint_url', () => {
  it('the same push method alone keeps the stored endpoint_url', async () => {
    const id = await stream();
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH }, description: 'kept endpoint' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ delivery: { method: PUSH, endpoint_url: ENDPOINT }, description: 'kept endpoint' });
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
  });

  it('a new authorization_header alone replaces the header and keeps the endpoint_url', async () => {
    const id = await stream({ authorization_header: 'Bearer first-secret' });
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, authorization_header: 'Bearer second-secret' } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT, authorization_header: '[set]' });
  });

  it('another method (poll, whose endpoint_url the transmitter supplies) is still refused with 400, and nothing changes', async () => {
    const id = await stream();
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: POLL } });
    expect(isApiError(r, 400, 'bad_request')).toBe(true);
    expect(r.json.message).toMatch(/delivery\.method/);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
  });

  it('PUT (a replace) and create still require delivery.endpoint_url for push: 400 naming it', async () => {
    const id = await stream();
    const put = await api('PUT', '/ssf/streams', { stream_id: id, delivery: { method: PUSH } });
    expect(isApiError(put, 400, 'bad_request')).toBe(true);
    expect(put.json.message).toMatch(/delivery\.endpoint_url is required/);
    const created = await api('POST', '/ssf/streams', { delivery: { method: PUSH } });
    expect(isApiError(created, 400, 'bad_request')).toBe(true);
    expect(created.json.message).toMatch(/delivery\.endpoint_url is required/);
  });

  it('an endpoint_url that is given is still checked against ssf.allowed_endpoints', async () => {
    const id = await stream();
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, endpoint_url: 'http://10.0.0.1/push' } });
    expect(isApiError(r, 400, 'endpoint_refused')).toBe(true);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery.endpoint_url).toBe(ENDPOINT);
  });

  it('a delivery that is not a JSON object (a URL alone, null, an array, a number) is 400, not a 200 that changed nothing (found by a black-box review)', async () => {
    const id = await stream();
    for (const delivery of ['http://127.0.0.1:9/moved', null, [], 5]) {
      for (const method of ['PATCH', 'PUT'] as const) {
        const r = await api(method, '/ssf/streams', { stream_id: id, delivery });
        expect(isApiError(r, 400, 'bad_request'), `${method} ${JSON.stringify(delivery)}`).toBe(true);
      }
      expect(isApiError(await api('POST', '/ssf/streams', { delivery }), 400, 'bad_request')).toBe(true);
    }
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
  });
});

/** The caller's streams' ids. */
const ids = async (): Promise<string[]> => ((await api('GET', '/ssf/streams')).json as Array<{ stream_id: string }>).map((s) => s.stream_id);

describe('POST /ssf/streams: the delivery method', () => {
  it('no delivery (SSF assumes poll, which riskstream does not offer): 400 bad_request naming delivery, nothing created', async () => {
    const before = await ids();
    const r = await api('POST', '/ssf/streams', { events_requested: [CAEP_RISK] });
    expect(isApiError(r, 400, 'bad_request')).toBe(true);
    expect(r.json.message).toMatch(/delivery/);
    expect(await ids()).toEqual(before);
  });

  it('a delivery without method: 400 bad_request naming delivery.method, nothing created', async () => {
    const before = await ids();
    const r = await api('POST', '/ssf/streams', { delivery: { endpoint_url: ENDPOINT }, events_requested: [CAEP_RISK] });
    expect(isApiError(r, 400, 'bad_request')).toBe(true);
    expect(r.json.message).toMatch(/delivery\.method/);
    expect(await ids()).toEqual(before);
  });

  it('PUT (a whole configuration) without delivery.method: 400, the stream unchanged; PATCH without it keeps the method', async () => {
    const created = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: ENDPOINT } });
    expect(created.status).toBe(201);
    const id = created.json.stream_id as string;
    const put = await api('PUT', '/ssf/streams', { stream_id: id, delivery: { endpoint_url: `${ENDPOINT}/moved` } });
    expect(isApiError(put, 400, 'bad_request')).toBe(true);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
    const patch = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { endpoint_url: `${ENDPOINT}/moved` } });
    expect(patch.status, JSON.stringify(patch.json)).toBe(200);
    expect(patch.json.delivery).toEqual({ method: PUSH, endpoint_url: `${ENDPOINT}/moved` });
  });

  it('push with its endpoint_url creates the stream (201)', async () => {
    const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: ENDPOINT }, events_requested: [CAEP_RISK] });
    expect(r.status).toBe(201);
    expect(r.json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
  });
});

describe('POST /ssf/streams: stream_id is the transmitter’s', () => {
  it('a stream_id in the body or the query: 400 transmitter_supplied, no stream created under it or any other', async () => {
    const before = await ids();
    const body = { delivery: { method: PUSH, endpoint_url: ENDPOINT }, events_requested: [CAEP_RISK] };
    const inBody = await api('POST', '/ssf/streams', { ...body, stream_id: 'chosen-by-receiver' });
    expect(isApiError(inBody, 400, 'transmitter_supplied')).toBe(true);
    const inQuery = await api('POST', '/ssf/streams?stream_id=chosen-by-receiver', body);
    expect(isApiError(inQuery, 400, 'transmitter_supplied')).toBe(true);
    expect(await ids()).toEqual(before);
    expect(isApiError(await api('GET', '/ssf/streams?stream_id=chosen-by-receiver'), 404, 'not_found')).toBe(true);
  });
});

describe('PATCH /ssf/streams: null clears an optional Receiver-Supplied property', () => {
  // SSF 1.0 §8.1.1.3: "Any Receiver-Supplied property present in the request MUST be updated by
  // the Transmitter." `"description": null` is present: it was answered 400, now it removes the
  // description (and `delivery.authorization_header: null` the stored header).
  it('"description": null removes the description; the rest is kept', async () => {
    const id = await stream();
    expect((await api('PATCH', '/ssf/streams', { stream_id: id, description: 'to be cleared' })).json.description).toBe('to be cleared');
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, description: null });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).not.toHaveProperty('description');
    const got = (await api('GET', `/ssf/streams?stream_id=${id}`)).json;
    expect(got).not.toHaveProperty('description');
    expect(got).toMatchObject({ delivery: { method: PUSH, endpoint_url: ENDPOINT }, events_requested: [CAEP_RISK] });
    // Neither a string nor null: still 400.
    expect(isApiError(await api('PATCH', '/ssf/streams', { stream_id: id, description: 5 }), 400, 'bad_request')).toBe(true);
  });

  it('"delivery": {"authorization_header": null} removes the stored header and keeps the endpoint', async () => {
    const id = await stream({ authorization_header: 'Bearer to-be-cleared' });
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, authorization_header: null } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery).toEqual({ method: PUSH, endpoint_url: ENDPOINT });
  });
});
