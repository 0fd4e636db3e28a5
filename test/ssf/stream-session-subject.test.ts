import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { apiClient, CAEP_REVOKED, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import type { ReceivedSet } from '../helpers/receiver.js';

/**
 * SSF 1.0 §8.1.3.1 (subject matching): a receiver that removes a complex subject naming a user's
 * session (`{"format":"complex","user":…,"session":…}`, as the session-revoked SETs name it) stops
 * the events of that session only. riskstream keyed it by the user alone: the user's other sessions'
 * revocations and risk changes — which that subject does not match — were silently dropped.
 */
const token = 'ssf-token-session-subject-tests-0123';
const h = workerHarness('ssf-session-subject', () => ({ http: { ssf_tokens: [token] }, ssf: { allowed_endpoints: ['127.0.0.1'] } }));
const api = apiClient(() => h.worker.url, token);
const admin = (method: string, path: string) => apiClient(() => h.worker.url, h.cfg.adminToken)(method, path);

const user = 'session-subject@example.com';
type Sub = { format?: string; email?: string; user?: { email?: string }; session?: { id?: string } };
const sub = (s: ReceivedSet): Sub => (s.claims.sub_id ?? {}) as Sub;
const at = (path: string) => h.receiver.received.filter((s) => s.path === path);
const revokedOf = (path: string, sid: string) => at(path).filter((s) => CAEP_REVOKED in (s.claims.events as object) && sub(s).session?.id === sid);
const risksOf = (path: string) => at(path).filter((s) => CAEP_RISK in (s.claims.events as object) && sub(s).email === user);

describe('subjects:remove of a complex {user, session} subject', () => {
  it('stops that session’s revocation only: the user’s other sessions and risk changes still reach the stream', async () => {
    const created = await api('POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/sess` },
      events_requested: [CAEP_RISK, CAEP_REVOKED],
    });
    expect(created.status).toBe(201);
    const stream_id = created.json.stream_id as string;
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 's-removed'));
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 's-kept'));
    await waitFor(async () => ((await admin('GET', `/v1/users/${encodeURIComponent(user)}/sessions`)).json.sessions as unknown[]).length === 2, {
      what: 'both sessions stored',
    });

    const subject = { format: 'complex', user: { format: 'email', email: user }, session: { format: 'opaque', id: 's-removed' } };
    expect((await api('POST', '/ssf/subjects:remove', { stream_id, subject })).status).toBe(204);

    for (const sid of ['s-removed', 's-kept']) expect((await admin('DELETE', `/v1/sessions/${sid}`)).status).toBe(200);
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(() => revokedOf('/sess', 's-kept').length >= 1 && risksOf('/sess').length >= 1, {
      what: 'the kept session’s revocation and the risk change',
    });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedOf('/sess', 's-removed')).toHaveLength(0);

    expect((await api('POST', '/ssf/subjects:add', { stream_id, subject })).status).toBe(200);
  });

  it('a complex subject whose session riskstream never names (not opaque) is not recognized: 404, nothing stored', async () => {
    const { json } = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/other` } });
    const subject = { format: 'complex', user: { format: 'email', email: user }, session: { format: 'uri', uri: 'urn:s:1' } };
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: json.stream_id, subject })).status).toBe(404);
    const bad = { format: 'complex', user: { format: 'email', email: user }, session: 'not-an-identifier' };
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: json.stream_id, subject: bad })).json.error).toBe('bad_request');
  });

  it('a session id as long as riskstream names one (512 characters) is judged on its own length, not with its user’s: 204; a longer one 413', async () => {
    // subject_length (512 by default) bounded the stored key, user and session together: a session
    // riskstream stores and sends as given (up to 512 characters) could not be removed with its user.
    const { json } = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/long` } });
    const subject = (id: string) => ({ format: 'complex', user: { format: 'email', email: user }, session: { format: 'opaque', id } });
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: json.stream_id, subject: subject('s'.repeat(512)) })).status).toBe(204);
    expect((await api('POST', '/ssf/subjects:add', { stream_id: json.stream_id, subject: subject('s'.repeat(512)) })).status).toBe(200);
    const over = await api('POST', '/ssf/subjects:remove', { stream_id: json.stream_id, subject: subject('s'.repeat(513)) });
    expect([over.status, over.json.error]).toEqual([413, 'payload_too_large']);
  });
});
