import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, userRisk, workerHarness } from '../helpers/worker.js';

/**
 * User ids end to end, through the contract's interfaces only: HTTP ingest in, the admin API out.
 * A user read from `GET /v1/users` names that user when asked about again, and an id JSON could not
 * read exactly is refused rather than merged with another.
 */
const h = workerHarness('e2e-user-ids');

async function ingest(lines: string[]): Promise<{ accepted: number; rejected: number; errors: { index: number; reason: string }[] }> {
  const r = await fetch(`${h.worker.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
    body: lines.join('\n'),
  });
  expect(r.status).toBe(202);
  return (await r.json()) as { accepted: number; rejected: number; errors: { index: number; reason: string }[] };
}

async function listedUsers(): Promise<string[]> {
  const r = await fetch(`${h.worker.url}/v1/users?level=high&limit=1000`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return ((await r.json()) as { users: { user: string }[] }).users.map((u) => u.user);
}

describe('user ids through ingest and the admin API', () => {
  it('a user given as the IdP spells it (capital Ϊ́) is found by the API as ingest stored it', async () => {
    // Ϊ + combining acute lower-cases to ϊ + acute, which composes (NFC) to ΐ: the API must normalise
    // the path as ingest stored the user (NFC after lower-casing), or the admin's spelling is a 404.
    const given = '\u03aa\u0301@Example.com';
    expect((await ingest([criticalDetection(given)])).accepted).toBe(1);
    await waitFor(async () => (await listedUsers()).includes('\u0390@example.com'), { what: 'the user listed in NFC' });
    const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(given)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ user: '\u0390@example.com', level: 'high' });
  });

  it('a user id given as a JSON number beyond 2^53 is refused, not rounded into another user', async () => {
    const time = Date.now() - 1000;
    const big = (digits: string): string => `{"type":"endpoint","user":${digits},"time":${time},"severity":"critical","detection":"malware"}`;
    const res = await ingest([big('12345678901234567891'), big('12345678901234567892'), big('42')]);
    expect(res.accepted).toBe(1);
    expect(res.errors.map((e) => e.index)).toEqual([0, 1]);
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, '42')).level === 'high', { what: 'user 42 high' });
    expect(await userRisk(h.worker.url, h.cfg.adminToken, '12345678901234567000')).toEqual({});
  });
});
