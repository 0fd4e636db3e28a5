import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { ipLoginMember, judgeIpBatch, parseIpLogin, type IpLogin } from '../../src/detect/ip-logins.js';
import { IP_FAILURES, passwordSpray, SPRAY_VICTIM_TYPE, type IpFailure } from '../../src/detect/password-spray.js';
import type { CanonicalEvent } from '../../src/types.js';
import { LIMITS, MIN, T0 } from './fixtures.js';

const schema = behaviorSchema('password_spray');
const params = schema.parse({ risk_level: 'high', users: 5, window: '30m' });
const IP = '203.0.113.9';

/** `n` failures from IP for distinct users, one a minute from `start`. */
const fails = (n: number, start = T0, user = (i: number) => `u${i}@example.com`): IpFailure[] =>
  Array.from({ length: n }, (_, i) => [start + i * MIN, user(i), `f-${i}`] as IpFailure);

const success = (time: number, failures: IpFailure[], extra: Partial<CanonicalEvent> = {}): CanonicalEvent =>
  ({ type: 'login', id: 'ok-1', user: 'victim@example.com', time, outcome: 'success', ip: IP, [IP_FAILURES]: failures, ...extra }) as CanonicalEvent;

const detect = (e: CanonicalEvent, window?: string[]) => passwordSpray.detect(window, { event: e, eventId: e.id! }, params, T0 + 60 * MIN, LIMITS);

describe('password_spray (pure)', () => {
  it('defaults: 10 users within 1h', () => {
    expect(schema.parse({ risk_level: 'high' })).toMatchObject({ users: 10, window: 3_600_000 });
  });

  it('flags a success after failures for `users` distinct users within the window, with evidence', () => {
    const f = fails(5);
    const r = detect(success(T0 + 10 * MIN, f));
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({
      time: T0 + 10 * MIN,
      evidence: { ip: IP, distinct_users: 5, failures: 5, span_s: 240, victim_failed_too: false, success: 'ok-1' },
    });
    expect(r.hits[0]!.eventIds).toEqual(['ok-1', 'f-0', 'f-1', 'f-2', 'f-3', 'f-4']);
    expect(r.window).toEqual(['ok-1']);
  });

  it('near misses: one user short, the same user many times, failures out of the window or after the success', () => {
    expect(detect(success(T0 + 10 * MIN, fails(4))).hits).toEqual([]);
    expect(
      detect(
        success(
          T0 + 10 * MIN,
          fails(9, T0, (i) => `u${i % 4}@example.com`),
        ),
      ).hits,
    ).toEqual([]);
    // The first failure lies 31 minutes before the success: only 4 users are within 30m.
    expect(detect(success(T0 + 31 * MIN, fails(5))).hits).toEqual([]);
    // The failures come after the success.
    expect(detect(success(T0 - MIN, fails(5))).hits).toEqual([]);
    // A failed login is never a victim, nor a success without an ip, nor one the edge did not judge.
    expect(detect(success(T0 + 10 * MIN, fails(5), { outcome: 'failure' })).hits).toEqual([]);
    expect(detect(success(T0 + 10 * MIN, fails(5), { ip: undefined })).hits).toEqual([]);
    const { [IP_FAILURES]: _, ...plain } = success(T0 + 10 * MIN, fails(5)) as CanonicalEvent & { [IP_FAILURES]: unknown };
    expect(passwordSpray.accepts(plain as CanonicalEvent, params)).toBe(false);
  });

  it('allow_networks: a success from a listed network (office NAT, VPN egress) is never flagged', () => {
    const nat = schema.parse({ risk_level: 'high', users: 5, window: '30m', allow_networks: ['203.0.113.0/24'] });
    const e = success(T0 + 10 * MIN, fails(8));
    expect(passwordSpray.detect(undefined, { event: e, eventId: 'ok-1' }, nat, T0, LIMITS).hits).toEqual([]);
    expect(schema.safeParse({ risk_level: 'high', allow_networks: ['nope'] }).success).toBe(false);
  });

  it('input cannot forge the marker: a JSON field of that name is not the symbol', () => {
    const forged = JSON.parse(JSON.stringify({ ...success(T0 + 10 * MIN, []), ipFailures: fails(5) })) as CanonicalEvent;
    expect(passwordSpray.accepts(forged, params)).toBe(false);
  });

  it('replay: the same success is flagged once', () => {
    const e = success(T0 + 10 * MIN, fails(6));
    const first = detect(e);
    expect(first.hits).toHaveLength(1);
    expect(detect(e, first.window).hits).toEqual([]);
    // Re-presented by the edge as a victim event with the same id: still once.
    expect(detect({ ...e, type: SPRAY_VICTIM_TYPE }, first.window).hits).toEqual([]);
  });

  it('out of order: failures arriving after the success reveal it once, whatever their order', () => {
    const s: IpLogin = { kind: 's', time: T0 + 10 * MIN, user: 'victim@example.com', id: 'ok-1' };
    const f: IpLogin[] = fails(5).map(([time, user, id]) => ({ kind: 'f', time, user, id }));
    const victims = (stored: IpLogin[], batch: IpLogin[]) => judgeIpBatch(stored, batch, [params]).victims;
    // Success stored first; then the failures arrive in two batches, in reverse order.
    const batch1 = [f[4]!, f[3]!, f[2]!];
    const batch2 = [f[1]!, f[0]!];
    expect(victims([s], batch1)).toEqual([]);
    // Revealed by the batch's last failure (index 1), with the five failures known then.
    expect(victims([s, ...batch1], batch2)).toEqual([{ after: 1, victim: s, failures: fails(5).reverse() }]); // in arrival order
    // A third batch adding a sixth user's failure reveals nothing new: it was a victim already.
    const f6: IpLogin = { kind: 'f', time: T0 + 6 * MIN, user: 'u6@example.com', id: 'f-6' };
    expect(victims([s, ...f], [f6])).toEqual([]);
    // Redelivering batch 2 (after a crash) reveals the same victim again (the detector dedupes it).
    expect(victims([s, ...batch1], batch2)).toHaveLength(1);
  });

  it('judges one login at a time: the same stream cut into other batches gives the same verdicts and evidence', () => {
    const f: IpLogin[] = fails(7).map(([time, user, id]) => ({ kind: 'f', time, user, id }));
    const s: IpLogin = { kind: 's', time: T0 + 10 * MIN, user: 'victim@example.com', id: 'ok-1' };
    // Four failures, the success, then three more failures from before it (late), in stream order.
    const stream = [f[0]!, f[1]!, f[2]!, f[3]!, s, f[4]!, f[5]!, f[6]!];
    const run = (cuts: number[]) => {
      const stored: IpLogin[] = [];
      const out: Array<[string, unknown]> = [];
      let from = 0;
      for (const to of [...cuts, stream.length]) {
        const batch = stream.slice(from, to);
        const j = judgeIpBatch(stored, batch, [params]);
        batch.forEach((l, i) => {
          if (j.attached.has(i)) out.push([`attach ${l.id}`, j.attached.get(i)]);
          for (const v of j.victims.filter((x) => x.after === i)) out.push([`victim ${v.victim.id} after ${l.id}`, v.failures]);
        });
        stored.push(...batch);
        from = to;
      }
      return out;
    };
    const whole = run([]);
    // The fifth user's failure (f-4) reveals the victim, with five failures: not six or seven.
    expect(whole).toEqual([
      ['attach ok-1', fails(4)],
      ['victim ok-1 after f-4', fails(5)],
    ]);
    for (const cuts of [[1, 2, 3, 4, 5, 6, 7], [5], [6], [2, 7], [4, 6]]) expect(run(cuts)).toEqual(whole);
  });
});

describe('password_spray: a password accepted but the sign-in not completed (interrupted, blocked by policy)', () => {
  it.each([
    ['interrupted (50074)', { outcome: 'interrupted', error_code: 50074 }, 'interrupted', 'interrupted (MFA or a prompt required)'],
    ['blocked (53003)', { outcome: 'blocked', reason: 'blocked_by_policy', error_code: 53003 }, 'blocked', 'blocked by policy'],
    ['failure blocked by policy', { outcome: 'failure', reason: 'blocked_by_policy' }, 'blocked', 'blocked by policy'],
  ])('a sign-in %s after the spray flags as a success would, saying the password was accepted', (_, extra, outcome, said) => {
    const r = detect(success(T0 + 10 * MIN, fails(5), extra));
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.summary).toBe(
      `login from ${IP} with the right password, ${said} at ${new Date(T0 + 10 * MIN).toISOString()}, which failed logins for 5 users (5 failures within 30m before it)`,
    );
    expect(r.hits[0]!.evidence).toMatchObject({ ip: IP, distinct_users: 5, success: 'ok-1', outcome, password_accepted: true });
    // One user short: nothing, as for a success.
    expect(detect(success(T0 + 10 * MIN, fails(4), extra)).hits).toEqual([]);
    // A plain success's evidence says nothing of the kind.
    expect(detect(success(T0 + 10 * MIN, fails(5))).hits[0]!.evidence.password_accepted).toBeUndefined();
  });

  it('a victim event carrying an accepted outcome says so; a failure or refresh is still no victim', () => {
    const victim = success(T0 + 10 * MIN, fails(5), { type: SPRAY_VICTIM_TYPE, outcome: 'blocked' });
    expect(detect(victim).hits[0]!.evidence).toMatchObject({ outcome: 'blocked', password_accepted: true });
    expect(detect(success(T0 + 10 * MIN, fails(5), { outcome: 'failure', reason: 'bad_password' })).hits).toEqual([]);
    expect(detect(success(T0 + 10 * MIN, fails(5), { type: 'session_refresh', outcome: 'interrupted' })).hits).toEqual([]);
  });

  it('the IP state keeps how an accepted password ended: a later spray reveals it as a victim with it', () => {
    const s: IpLogin = { kind: 's', time: T0 + 10 * MIN, user: 'victim@example.com', id: 'ok-1', accepted: 'interrupted' };
    const member = ipLoginMember(s);
    expect(parseIpLogin(member, s.time)).toEqual(s);
    // A member of before (three elements) reads as a plain success; a failure never carries a note.
    expect(parseIpLogin(JSON.stringify(['s', 'v@example.com', 'ok-2']), T0)).toEqual({ kind: 's', user: 'v@example.com', id: 'ok-2', time: T0 });
    expect(parseIpLogin(JSON.stringify(['f', 'v@example.com', 'f-9', 'blocked']), T0)?.accepted).toBeUndefined();
    const f: IpLogin[] = fails(5).map(([time, user, id]) => ({ kind: 'f', time, user, id }));
    const [v] = judgeIpBatch([parseIpLogin(member, s.time)!], f, [params]).victims;
    expect(v!.victim.accepted).toBe('interrupted');
  });
});
