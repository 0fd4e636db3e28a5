/**
 * A self-registered SSF stream changed while one of its SETs is retrying (black-box, a real worker
 * and receiver): the retry follows the stream as it is at send time. Deleted → nothing more is sent
 * (`set.failed`, `unknown_receiver`); the event type no longer requested → not sent
 * (`event_not_requested`); the endpoint moved → the retry goes to the new URL, without the push
 * secret the old one had (docs/ssf-streams.md: "the old receiver's push secret is never sent to a
 * new URL").
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { apiClient, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';

const token = 'ssf-token-stream-retrying-0123456789';
const SECRET = 'Bearer stream-retrying-old-secret-0123';
const h = workerHarness('ssf-stream-retrying', () => ({
  http: { ssf_tokens: [token] },
  ssf: { allowed_endpoints: ['127.0.0.1'] },
  // The first retry comes 1-2 s after the 503: the change below is made well before it.
  delivery: { backoff_base: '2s', backoff_max: '2s' },
}));
const api = apiClient(() => h.worker.url, token);

type Entry = { action: string; target?: string; details: Record<string, unknown> };
async function failed(streamId: string): Promise<Entry[]> {
  const res = await fetch(`${h.worker.url}/v1/audit?limit=1000`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  const { entries } = (await res.json()) as { entries: Entry[] };
  return entries.filter((e) => e.action === 'set.failed' && e.details.receiver === `ssf-stream-${streamId}`);
}
const at = (path: string) => h.receiver.received.filter((s) => s.path === path);

/** Creates a stream at `path` whose first push is answered 503; returns its id once that push came. */
async function retryingStream(path: string, user: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}${path}`, ...extra } });
  expect(r.status).toBe(201);
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
  await waitFor(() => at(path).length >= 1, { what: `the first push to ${path}` });
  return r.json.stream_id as string;
}

describe('a stream changed while its SET is retrying', () => {
  it('setup: the first push to each stream is answered 503, every later one 202', () => {
    h.receiver.respond = (s) => (at(s.path).length === 1 ? { status: 503 } : { status: 202 });
  });

  it.each<[string, string, (id: string) => Promise<{ status: number }>, string]>([
    ['deleted', '/deleted', (id) => api('DELETE', `/ssf/streams?stream_id=${id}`), 'unknown_receiver'],
    [
      'its event type no longer requested',
      '/unrequested',
      (id) => api('PATCH', '/ssf/streams', { stream_id: id, events_requested: [VERIFICATION] }),
      'event_not_requested',
    ],
  ])('%s: the retry sends nothing (set.failed)', async (_what, path, change, outcome) => {
    const id = await retryingStream(path, `${path.slice(1)}@example.com`);
    expect((await change(id)).status).toBeLessThan(300);
    const [entry] = await waitFor(async () => ((await failed(id)).length ? failed(id) : undefined), { what: 'the retry given up' });
    expect(entry!.details.outcome).toBe(outcome);
    expect(at(path)).toHaveLength(1);
  });

  it('its endpoint moved: the retry goes to the new URL, same jti, without the old push secret', async () => {
    const id = await retryingStream('/moved-from', 'moved@example.com', { authorization_header: SECRET });
    expect(at('/moved-from')[0]!.authorization).toBe(SECRET);
    const moved = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/moved-to` } });
    expect(moved.status).toBe(200);
    const [retry] = await waitFor(() => (at('/moved-to').length ? at('/moved-to') : undefined), { what: 'the retry at the new URL' });
    expect(retry!.verified, retry!.error).toBe(true);
    expect(retry!.claims.jti).toBe(at('/moved-from')[0]!.claims.jti);
    expect(retry!.authorization).toBeUndefined();
    expect(h.receiver.received.filter((s) => s.authorization === SECRET).every((s) => s.path === '/moved-from')).toBe(true);
  });
});
