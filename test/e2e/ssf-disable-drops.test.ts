/**
 * A disabled stream holds nothing (SSF 1.0 §8.1.2: "the Transmitter MUST NOT transmit events and
 * will not hold any events"; docs/ssf-streams.md: paused streams hold, disabled ones drop). A SET
 * queued before the disable — retrying after a refused push, or waiting for a paused stream's
 * resume — was sent once the stream was enabled again before its next attempt (found by a
 * black-box review: the SET of a change made before the disable reached the receiver after the
 * re-enable). It is dropped now; what happens after the re-enable is sent.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recentIso } from '../helpers/clock.js';

const token = 'ssf-token-disable-drops-tests-0123456';
// Retries 2-4 s apart: the disable and the re-enable both fall between two attempts of one SET.
const h = workerHarness('ssf-disable-drops', () => ({
  http: { ssf_tokens: [token] },
  ssf: { allowed_endpoints: ['127.0.0.1'] },
  delivery: { backoff_base: '4s', backoff_max: '4s' },
}));
const api = apiClient(() => h.worker.url, token);

async function travel(user: string): Promise<void> {
  const t = (min: number): string => recentIso(min * MIN);
  const login = (time: string, ip: string, lat: number, lon: number): string => JSON.stringify({ type: 'login', user, time, ip, geo: { lat, lon } });
  await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login(t(0), '81.2.69.142', 51.5, -0.12));
  await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login(t(30), '1.128.0.1', -33.87, 151.21));
}

const risk = (path: string, user: string) =>
  h.receiver.received.filter((s) => s.path === path && eventOf(s).type === CAEP_RISK && (s.claims.sub_id as { email?: string }).email === user);

describe('a stream disabled, then enabled again', () => {
  it('does not send the SETs queued before the disable (a retrying one), and sends those after the re-enable', async () => {
    const sid = (await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/flaky` }, events_requested: [CAEP_RISK] })).json
      .stream_id as string;
    const accepted: string[] = [];
    let failing = true;
    h.receiver.respond = (set) => {
      if (set.path !== '/flaky') return { status: 202 };
      if (failing) return { status: 503 };
      accepted.push(String((set.claims.sub_id as { email?: string }).email));
      return { status: 202 };
    };
    try {
      await travel('before-disable@example.com');
      await waitFor(() => risk('/flaky', 'before-disable@example.com').length >= 1, { what: 'the first (refused) push' });
      expect((await api('POST', '/ssf/status', { stream_id: sid, status: 'disabled' })).json.status).toBe('disabled');
      expect((await api('POST', '/ssf/status', { stream_id: sid, status: 'enabled' })).json.status).toBe('enabled');
      failing = false;
      await travel('after-enable@example.com');
      await waitFor(() => accepted.includes('after-enable@example.com'), { what: 'the SET of a change after the re-enable' });
      await untilQuiet(h.redis, { prefix: h.prefix, users: ['before-disable@example.com', 'after-enable@example.com'] });
      await new Promise((r) => setTimeout(r, 5000)); // past the next attempt of the SET queued before the disable
      expect(accepted).not.toContain('before-disable@example.com');
    } finally {
      h.receiver.respond = () => ({ status: 202 });
    }
    expect((await api('DELETE', `/ssf/streams?stream_id=${sid}`)).status).toBe(204);
  }, 40_000);
});
