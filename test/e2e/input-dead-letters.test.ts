/**
 * CONTRACT §2 through a real worker, as a log shipper and a black-box tester see it: entries that
 * cannot be understood — invalid JSON, a JSON array, a lone field that is not JSON, no user, a user
 * over 1024 characters, bytes that are not UTF-8 — each go to the dead-letter stream once, with the
 * source stream and id, a reason naming the field, and every original field; all are acked. Flat
 * fields in every form (several envelope names at once, dotted keys, numbers as text, an ISO time with
 * an offset and a fraction) are scored. `POST /v1/events` with CRLF, blank lines and pretty-printed
 * objects answers 202 with counts that add up.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { userRisk, workerHarness } from '../helpers/worker.js';
import { recentIso } from '../helpers/clock.js';

const h = workerHarness('input-dead-letters');

/** The dead letters of `stream`, keyed by source id. */
async function deadLetters(stream: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const [, flat] of await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+')) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
    if (f.source_stream === stream) out.set(f.source_id!, f);
  }
  return out;
}

describe('entries that cannot be understood', () => {
  it('are dead-lettered once each with source stream and id, a reason naming the field and the original fields; all acked', async () => {
    const stream = `${h.prefix}:activity`;
    const cases: Array<[Record<string, string | Buffer>, string]> = [
      [{ event: '{"type":"dlp",' }, 'event:'],
      [{ data: '[{"type":"dlp"}]' }, 'data:'],
      [{ msg: 'plain text' }, 'msg:'],
      [{ type: 'dlp', severity: 'high', time: recentIso(0) }, 'user:'],
      [{ type: 'dlp', user: 'u'.repeat(1025) }, 'user:'],
      [{ type: 'dlp', user: Buffer.from([0x77, 0xff, 0x40, 0x78]) }, 'user:'], // not UTF-8: its bytes kept (below)
      [{ type: 'dlp', user: 'x@example.com', time: 'yesterday' }, 'time:'],
      [{ type: 'dlp', ['__proto__']: 'p', user: 'p@example.com', time: 'yesterday' }, 'time:'], // a field named __proto__ kept
    ];
    const ids: string[] = [];
    for (const [fields] of cases) ids.push((await h.redis.xadd(stream, '*', ...Object.entries(fields).flat()))!);
    const dead = await waitFor(async () => {
      const d = await deadLetters(stream);
      return ids.every((id) => d.has(id)) ? d : undefined;
    });
    cases.forEach(([fields, field], i) => {
      const f = dead.get(ids[i]!)!;
      expect(f.reason!.startsWith(field), `${f.reason} names ${field}`).toBe(true);
      for (const [k, v] of Object.entries(fields)) expect(f[`orig.${k}`], k).toBe(v.toString());
    });
    expect(dead.size).toBe(cases.length);
    // Bytes that are not UTF-8: the dead letter holds the original bytes, not U+FFFD.
    const users: string[] = [];
    for (const [, flat] of await h.redis.xrangeBuffer(`${h.prefix}:dead-letter`, '-', '+')) {
      const f = new Map<string, Buffer>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!.toString(), flat[i + 1]!);
      if (f.get('source_id')?.toString() === ids[5]) users.push(f.get('orig.user')!.toString('hex'));
    }
    expect(users).toEqual(['77ff4078']);
    // Acked (with the router's next read): nothing pending, nothing left to read.
    await waitFor(
      async () => {
        const [group] = (await h.redis.xinfo('GROUPS', stream)) as unknown[][];
        const g: Record<string, unknown> = {};
        for (let i = 0; i + 1 < group!.length; i += 2) g[String(group![i])] = group![i + 1];
        return g.pending === 0 && g.lag === 0;
      },
      { what: 'every entry acked' },
    );
  });

  it('flat fields in every form are scored: a Sydney login after a London one through text numbers, dotted keys and an offset time is impossible travel', async () => {
    const user = 'flat@example.com';
    const now = Date.now();
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      ...['type', 'login', 'user', user, 'outcome', 'success', 'time', String(now - 3_600_000)],
      ...[
        'geo.lat',
        '51.5',
        'geo.lon',
        '-0.12',
        'geo.accuracy_km',
        '20',
        'session.id',
        's-flat-1',
        'session.claims.email',
        user,
        'device.posture.firewall',
        'TRUE',
        'note',
        'kept',
      ],
    );
    // The other envelope names: `msg` JSON beside a flat `user` stays text (an attribute), the flat fields are the event.
    const iso = new Date(now - 600_000)
      .toISOString()
      .replace('Z', '')
      .replace(/\.(\d+)$/, '.$1999+00:00');
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'user',
      user.toUpperCase(),
      'type',
      'login',
      'time',
      iso,
      'geo.lat',
      ' -33.87',
      'geo.lon',
      '151.21',
      'msg',
      '{"user":"someone-else@example.com"}',
    );
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, user)).level === 'high', { what: 'impossible travel' });
    const r = await fetch(`${h.worker.url}/v1/sessions/s-flat-1`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ user, claims: { email: user }, device: { posture: { firewall: true } }, geo: { lat: 51.5, lon: -0.12 } });
    expect((await userRisk(h.worker.url, h.cfg.adminToken, 'someone-else@example.com')).level).toBeUndefined();
  });
});

describe('POST /v1/events', () => {
  it('NDJSON with CRLF and blank lines, then pretty-printed objects: 202 with counts that add up; a rejected record is dead-lettered whole', async () => {
    const post = async (body: string) => {
      const r = await fetch(`${h.worker.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${h.cfg.ingestToken}` }, body });
      return { status: r.status, body: (await r.json()) as { accepted: number; rejected: number; errors: Array<{ index: number; reason: string }> } };
    };
    const ev = (user: string) => JSON.stringify({ type: 'dlp', user, time: recentIso(0), severity: 'high' });
    const a = await post(`${ev('nd@example.com')}\r\n\r\n{oops\r\n  \r\n[1]\r\n${ev('nd@example.com')}`);
    expect(a).toEqual({
      status: 202,
      body: { accepted: 2, rejected: 2, errors: [expect.objectContaining({ index: 1 }), expect.objectContaining({ index: 2 })] },
    });
    const pretty = [ev('pp@example.com'), ev('pp@example.com')].map((e) => JSON.stringify(JSON.parse(e), null, 2)).join('\n');
    expect(await post(pretty)).toEqual({ status: 202, body: { accepted: 2, rejected: 0, errors: [] } });
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, 'pp@example.com')).level === 'medium', { what: 'pretty-printed events scored' });
    const dead = await waitFor(async () => {
      const d = [...(await deadLetters('http:/v1/events')).values()];
      return d.length === 2 ? d : undefined;
    });
    // An array line's elements are records (docs/shippers.md): `[1]` is the record `1`, dead-lettered as not an object.
    expect(dead.map((f) => f['orig.event']).sort()).toEqual(['1', '{oops']);
  });

  it('token kinds: none → 401, an admin token → 202, an ingest token elsewhere → 403, each error {error, message}', async () => {
    const body = `${JSON.stringify({ type: 'dlp', user: 'tok@example.com' })}\n`;
    const none = await fetch(`${h.worker.url}/v1/events`, { method: 'POST', body });
    expect([none.status, Object.keys((await none.json()) as object).sort()]).toEqual([401, ['error', 'message']]);
    const admin = await fetch(`${h.worker.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${h.cfg.adminToken}` }, body });
    expect(admin.status).toBe(202);
    const other = await fetch(`${h.worker.url}/v1/users/tok@example.com/risk`, { headers: { authorization: `Bearer ${h.cfg.ingestToken}` } });
    expect([other.status, ((await other.json()) as { error: string }).error]).toEqual([403, 'forbidden']);
  });
});
