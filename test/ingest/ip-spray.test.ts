import { afterAll, describe, expect, it } from 'vitest';
import { behaviorSchema, type BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { ipSprayEnricher, MAX_IP_LOGINS } from '../../src/ingest/ip-spray.js';
import { ipFailuresOf, passwordSpray, SPRAY_VICTIM_TYPE } from '../../src/detect/password-spray.js';
import { Keys } from '../../src/keys.js';
import { writeRouted, type Held } from '../../src/engine/route-write.js';
import { decodeRouted, type RoutedItem } from '../../src/engine/routed.js';
import { orderKey } from '../../src/partition.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('ipspray');
afterAll(cleanup);

const T0 = Date.parse('2026-11-23T08:00:00Z');
const MIN = 60_000;
const NOW = T0 + 2 * 60 * MIN;
const keys = new Keys(prefix);
const params = behaviorSchema('password_spray').parse({ risk_level: 'high', users: 4, window: '30m' });
const behaviors: BehaviorConfig[] = [
  { id: 'password_spray', kind: 'password_spray', enabled: true, risk_level: 'high', expires_after: 86_400_000, params: { ...params } },
];
const enrich = (on = behaviors) => ipSprayEnricher(redis, keys, { behaviors: () => on, allowedLateness: () => 10 * MIN, now: () => NOW });

let seq = 0;
const login = (user: string, at: number, outcome: 'success' | 'failure', ip = '203.0.113.9'): StreamEvent => ({
  ref: { stream: `${prefix}:login`, id: `${T0 + at}-${++seq}` },
  deliveries: 1,
  event: { type: 'login', id: `e-${seq}`, user, time: T0 + at, outcome, ip } as CanonicalEvent,
});
const failures = (n: number, ip?: string) => Array.from({ length: n }, (_, i) => login(`u${i}@example.com`, i * MIN, 'failure', ip));

/** Runs the detector over the events the edge produced, as the reducer would (one user). */
const hitsOf = (events: StreamEvent[], user: string, window?: string[]) => {
  const hits = [];
  let w = window;
  for (const se of events.filter((e) => e.event.user === user && passwordSpray.accepts(e.event, params))) {
    const r = passwordSpray.detect(w, { event: se.event, eventId: se.event.id! }, params, NOW, { maxLogins: 10, maxAge: 1e9, allowedLateness: 10 * MIN });
    w = r.window;
    hits.push(...r.hits);
  }
  return { hits, window: w };
};

describe('password_spray edge: per-IP state in Redis', () => {
  it('failures stamped in the future (a skewed source) fill at most half of the IP set: a real spray is still judged', async () => {
    const ip = '198.51.100.240';
    const DAY = 24 * 60 * MIN;
    const skewed = Array.from({ length: MAX_IP_LOGINS + 10 }, (_, i) => login(`s${i}@example.com`, DAY + i * 1000, 'failure', ip));
    await enrich()(skewed);
    expect(await redis.zcard(keys.ipLogins(ip))).toBe(MAX_IP_LOGINS / 2);
    const batch = [...failures(4, ip), login('skew-victim@example.com', 10 * MIN, 'success', ip)];
    await enrich()(batch);
    expect(ipFailuresOf(batch[4]!.event)).toHaveLength(4);
    expect(hitsOf(batch, 'skew-victim@example.com').hits).toHaveLength(1);
  });

  it('session refreshes are no guesses and no successes: failed refreshes of many users from one IP, then a login, flag nothing', async () => {
    const ip = '198.51.100.81';
    const refresh = (se: StreamEvent): StreamEvent => ({ ...se, event: { ...se.event, type: 'session_refresh' } });
    const batch = [...failures(6, ip).map(refresh), login('refresh-user@example.com', 10 * MIN, 'success', ip)];
    await enrich()(batch);
    expect(await redis.zcard(keys.ipLogins(ip))).toBe(0);
    expect(ipFailuresOf(batch[6]!.event) ?? []).toEqual([]);
    expect(hitsOf(batch, 'refresh-user@example.com').hits).toEqual([]);
    // Real failed logins then a successful refresh: the refresh is no victim's success either.
    const ip2 = '198.51.100.82';
    const then = [...failures(6, ip2), refresh(login('refresh-user2@example.com', 10 * MIN, 'success', ip2))];
    await enrich()(then);
    expect(ipFailuresOf(then[6]!.event)).toBeUndefined();
    expect(hitsOf(then, 'refresh-user2@example.com').hits).toEqual([]);
  });

  it('attaches the IP failures to a success in the same batch; the IP key is its own, bounded and expiring', async () => {
    const batch = [...failures(4), login('victim@example.com', 10 * MIN, 'success')];
    await enrich()(batch);
    expect(batch).toHaveLength(5);
    expect(ipFailuresOf(batch[4]!.event)).toHaveLength(4);
    expect(ipFailuresOf(batch[0]!.event)).toBeUndefined();
    expect(hitsOf(batch, 'victim@example.com').hits).toHaveLength(1);
    const key = keys.ipLogins('203.0.113.9');
    expect(key).toBe(`${prefix}:ip:{203.0.113.9}:logins`);
    // Failures and successes apart: the batch's 4 failures, its 1 success.
    expect(await redis.zcard(key)).toBe(4);
    expect(await redis.zcard(keys.ipSuccesses('203.0.113.9'))).toBe(1);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(40 * MIN);
  });

  it("out of order: failures arriving after the success append a victim event into that user's path, once", async () => {
    const ip = '198.51.100.77';
    const ok = login('late-victim@example.com', 10 * MIN, 'success', ip);
    const first = [ok];
    await enrich()(first);
    expect(hitsOf(first, 'late-victim@example.com').hits).toEqual([]);
    const f = failures(4, ip);
    const b1 = [f[3]!, f[2]!];
    await enrich()(b1);
    expect(b1).toHaveLength(2);
    const b2 = [f[1]!, f[0]!];
    await enrich()(b2);
    expect(b2).toHaveLength(3);
    const victim = b2[2]!;
    expect(victim.ref).toEqual(f[0]!.ref); // right after the failure that revealed it (the fourth user), acked and retried with it
    expect(victim.event).toMatchObject({ type: SPRAY_VICTIM_TYPE, user: 'late-victim@example.com', id: ok.event.id, time: ok.event.time, ip });
    const r = hitsOf(b2, 'late-victim@example.com');
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ distinct_users: 4, success: ok.event.id });
    // Replay of the whole story (redelivery): the same victim is re-presented, the detector flags nothing new.
    const again = [f[1]!, f[0]!].map((x) => ({ ...x, deliveries: 2, event: { ...x.event } }));
    await enrich()(again);
    expect(hitsOf(again, 'late-victim@example.com', r.window).hits).toEqual([]);
  });

  it('near miss on another IP: failures for 3 users then a success flag nothing; disabled behavior touches no key', async () => {
    const ip = '192.0.2.50';
    const batch = [...failures(3, ip), login('ok@example.com', 5 * MIN, 'success', ip)];
    await enrich()(batch);
    expect(hitsOf(batch, 'ok@example.com').hits).toEqual([]);
    // An interrupted sign-in (Entra 50074: MFA required after a good password) is not a failure.
    const interrupted = login('int@example.com', 0, 'failure', '192.0.2.98');
    interrupted.event.outcome = 'interrupted';
    await enrich()([interrupted]);
    expect(await redis.exists(keys.ipLogins('192.0.2.98'))).toBe(0);
    const off = [login('x@example.com', 0, 'failure', '192.0.2.99')];
    await enrich([{ ...behaviors[0]!, enabled: false }])(off);
    expect(await redis.exists(keys.ipLogins('192.0.2.99'))).toBe(0);
  });

  it('allow_networks: logins from a listed network are not recorded', async () => {
    const nat = behaviorSchema('password_spray').parse({ risk_level: 'high', users: 4, allow_networks: ['10.0.0.0/8'] });
    const batch = [login('n@example.com', 0, 'failure', '10.1.2.3')];
    await enrich([{ ...behaviors[0]!, params: { ...nat } }])(batch);
    expect(await redis.exists(keys.ipLogins('10.1.2.3'))).toBe(0);
  });

  it('keeps at most MAX_IP_LOGINS per IP', async () => {
    const ip = '192.0.2.200';
    const many = Array.from({ length: MAX_IP_LOGINS + 50 }, (_, i) => login(`m${i}@example.com`, Math.floor(i / 100), 'failure', ip));
    await enrich()(many);
    expect(await redis.zcard(keys.ipLogins(ip))).toBe(MAX_IP_LOGINS);
  });

  it('one batch, several IPs (one script call): each IP judged on its own failures and keys', async () => {
    const [a, b, c] = ['192.0.2.101', '192.0.2.102', '192.0.2.103'];
    // a: a spray and its victim; b: one failure and a success (a near miss); c: a success alone.
    const batch = [...failures(4, a), login('va@example.com', 10 * MIN, 'success', a), login('x@example.com', MIN, 'failure', b)];
    batch.push(login('vb@example.com', 11 * MIN, 'success', b), login('vc@example.com', 12 * MIN, 'success', c));
    await enrich()(batch);
    expect(ipFailuresOf(batch[4]!.event)).toHaveLength(4);
    expect(ipFailuresOf(batch[6]!.event)).toHaveLength(1);
    expect(ipFailuresOf(batch[7]!.event) ?? []).toHaveLength(0);
    expect(hitsOf(batch, 'va@example.com').hits).toHaveLength(1);
    expect(hitsOf(batch, 'vb@example.com').hits).toEqual([]);
    expect([await redis.zcard(keys.ipLogins(a)), await redis.zcard(keys.ipLogins(b)), await redis.zcard(keys.ipLogins(c))]).toEqual([4, 1, 0]);
    expect([await redis.zcard(keys.ipSuccesses(a)), await redis.zcard(keys.ipSuccesses(b)), await redis.zcard(keys.ipSuccesses(c))]).toEqual([1, 1, 1]);
  });
  it('a batch reaching far past its spray still judges the spray: the trim keeps what its oldest login needs', async () => {
    const ip = '192.0.2.150';
    // The same logins one at a time flag the victim; in one batch the login an hour later must not
    // trim the failures the success before it needs (the trim counted from the batch's newest).
    await enrich()(failures(4, ip));
    const batch = [login('vfar@example.com', 10 * MIN, 'success', ip), login('later@example.com', 75 * MIN, 'failure', ip)];
    await enrich()(batch);
    expect(ipFailuresOf(batch[0]!.event)).toHaveLength(4);
    expect(hitsOf(batch, 'vfar@example.com').hits).toHaveLength(1);
  });

  it('a denied login is a failure; one address in several spellings is one source (IPv6 case and zeros, IPv4-mapped)', async () => {
    const denied = failures(4, '198.51.100.77').map((f) => ({ ...f, event: { ...f.event, outcome: 'denied' } }));
    const b1 = [...denied, login('victim1@example.com', 10 * MIN, 'success', '198.51.100.77')];
    await enrich()(b1);
    expect(hitsOf(b1, 'victim1@example.com').hits).toHaveLength(1);
    const spellings = ['2001:db8:1::5', '2001:DB8:1:0:0:0:0:5', '2001:0db8:0001::5', '2001:db8:1::5'];
    const b2 = [
      ...spellings.map((ip, i) => login(`v6u${i}@example.com`, i * MIN, 'failure', ip)),
      login('victim2@example.com', 10 * MIN, 'success', '2001:Db8:1::5'),
    ];
    await enrich()(b2);
    expect(hitsOf(b2, 'victim2@example.com').hits).toHaveLength(1);
    const mapped = [
      ...[0, 1, 2, 3].map((i) => login(`m${i}@example.com`, i * MIN, 'failure', '::ffff:198.51.100.99')),
      login('victim3@example.com', 10 * MIN, 'success', '198.51.100.99'),
    ];
    await enrich()(mapped);
    expect(hitsOf(mapped, 'victim3@example.com').hits).toHaveLength(1);
    expect(await redis.zcard(keys.ipLogins('2001:db8:1::5'))).toBe(4);
  });

  it('routed, a victim revealed mid-step goes under its failure’s entry; the events after it keep their own entries (ids and refs)', async () => {
    const ip = '198.51.100.123';
    const ok = login('mid-victim@example.com', 10 * MIN, 'success', ip);
    // After the failure that reveals the victim: two events of another user without an id of their
    // own (the entry names them: a counting detector tells them apart by it).
    const tail = [1, 2].map((n): StreamEvent => ({
      ref: { stream: `${prefix}:activity`, id: `${T0 + 20 * MIN + n}-0` },
      deliveries: 1,
      event: { type: 'dlp', user: 'other@example.com', time: T0 + 20 * MIN + n, severity: 'high', n } as unknown as CanonicalEvent,
    }));
    const step = [ok, ...failures(4, ip), ...tail];
    const held: Held[] = step.map((se, i) => ({ key: orderKey(`${T0}-${i}`, 0), ref: se.ref, event: se.event }));
    const rk = new Keys(`${prefix}:routed`, 4);
    await writeRouted(redis, rk, enrich(), held);
    const routed: RoutedItem[] = [];
    for (const part of rk.partitionList) for (const [, f] of await redis.xrangeBuffer(rk.partitionIn(part), '-', '+')) routed.push(...decodeRouted(f[1]!));
    const refOf = (pick: (e: Record<string, unknown>) => boolean) =>
      routed.filter((x): x is Extract<RoutedItem, { e: CanonicalEvent }> => 'e' in x && pick(x.e as Record<string, unknown>)).map((x) => `${x.s} ${x.i}`);
    step.forEach((se, i) => {
      const mine = i < 5 ? (e: Record<string, unknown>) => e.id === se.event.id && e.type === 'login' : (e: Record<string, unknown>) => e.n === i - 4;
      expect(refOf(mine)).toEqual([`${se.ref.stream} ${se.ref.id}`]);
    });
    expect(refOf((e) => e.type === SPRAY_VICTIM_TYPE)).toEqual([`${step[4]!.ref.stream} ${step[4]!.ref.id}`]);
  });

  /** Routes 20 successes from `ip`, then 4 failures revealing them all, over `partitions`: the victims routed and the write's outcome. */
  const twentyVictims = async (ip: string, tag: string, partitions: number) => {
    const oks = Array.from({ length: 20 }, (_, i) => login(`${tag}${i}@example.com`, 10 * MIN, 'success', ip));
    const step = [...oks, ...failures(4, ip)];
    const held: Held[] = step.map((se, i) => ({ key: orderKey(`${T0}-${i}`, 0), ref: se.ref, event: se.event }));
    const rk = new Keys(`${prefix}:${tag}`, partitions);
    const w = await writeRouted(redis, rk, enrich(), held);
    const victims: string[] = [];
    for (const part of rk.partitionList)
      for (const [, f] of await redis.xrangeBuffer(rk.partitionIn(part), '-', '+'))
        for (const x of decodeRouted(f[1]!)) if ('e' in x && x.e.type === SPRAY_VICTIM_TYPE) victims.push(x.e.user);
    return { oks, victims, w };
  };

  it('routed, one failure revealing 20 victims routes all 20 (each after the failure, in its own user’s partition)', async () => {
    const { oks, victims } = await twentyVictims('198.51.100.124', 'many', 64);
    expect(victims.sort()).toEqual(oks.map((o) => o.event.user).sort());
  });

  it('routed, victims past the sub-indexes one entry has in one partition are counted as dropped, never silently', async () => {
    const { victims, w } = await twentyVictims('198.51.100.125', 'one', 1);
    expect(victims).toHaveLength(15);
    expect(w.dropped).toBe(5);
  });

  it('a password accepted but the sign-in interrupted or blocked (50074, 53003) completes a spray; sign-ins blocked by policy count as no failure', async () => {
    const accepted = (se: StreamEvent, extra: Record<string, unknown>): StreamEvent => ({ ...se, event: { ...se.event, ...extra } as CanonicalEvent });
    const interrupted = { outcome: 'interrupted', error_code: 50074 };
    const blocked = { outcome: 'blocked', reason: 'blocked_by_policy', error_code: 53003 };
    // In one batch: 4 users' bad passwords, then an interrupted sign-in.
    const ip = '198.51.100.140';
    const batch = [...failures(4, ip), accepted(login('int-victim@example.com', 10 * MIN, 'failure', ip), interrupted)];
    await enrich()(batch);
    expect(ipFailuresOf(batch[4]!.event)).toHaveLength(4);
    const r = hitsOf(batch, 'int-victim@example.com');
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ distinct_users: 4, outcome: 'interrupted', password_accepted: true });
    expect([await redis.zcard(keys.ipLogins(ip)), await redis.zcard(keys.ipSuccesses(ip))]).toEqual([4, 1]);
    // 3 users' bad passwords and 5 users blocked by Conditional Access, then a success: one user short.
    const ip2 = '198.51.100.141';
    const blocks = Array.from({ length: 5 }, (_, i) => accepted(login(`ca${i}@example.com`, 5 * MIN + i * 1000, 'failure', ip2), blocked));
    const b2 = [...failures(3, ip2), ...blocks, login('ok2@example.com', 10 * MIN, 'success', ip2)];
    await enrich()(b2);
    expect(ipFailuresOf(b2[8]!.event)).toHaveLength(3);
    expect(hitsOf(b2, 'ok2@example.com').hits).toEqual([]);
    expect(await redis.zcard(keys.ipLogins(ip2))).toBe(3);
  });

  it('out of order: a blocked sign-in stored before the spray arrives is revealed as a victim that says it was blocked', async () => {
    const ip = '198.51.100.142';
    const ok = { ...login('late-ca@example.com', 10 * MIN, 'failure', ip) };
    ok.event = { ...ok.event, outcome: 'failure', reason: 'blocked_by_policy' } as CanonicalEvent;
    await enrich()([ok]);
    const b = failures(4, ip);
    await enrich()(b);
    expect(b).toHaveLength(5);
    expect(b[4]!.event).toMatchObject({ type: SPRAY_VICTIM_TYPE, user: 'late-ca@example.com', id: ok.event.id, outcome: 'blocked' });
    const r = hitsOf(b, 'late-ca@example.com');
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.evidence).toMatchObject({ distinct_users: 4, success: ok.event.id, outcome: 'blocked', password_accepted: true });
  });
});
