import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { attachedOf, decodeRouted, encodeRouted, type RoutedItem } from '../../src/engine/routed.js';
import { sessionUseEnricher } from '../../src/sessions/captured.js';
import { attachStored, storedOf, type SessionIdentity } from '../../src/sessions/identity.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { CanonicalEvent } from '../../src/types.js';
import { batchOf, login, settings, testRedis } from './helpers.js';

/**
 * A session refresh of a stored session extends it: the login's identity (claims, device,
 * network, login time: session_hijack's baseline) is kept, the expiry moves, `refreshed_at` is set.
 * The router attaches the stored identity; the owner's identity builder merges (pure).
 */
const t = testRedis();
const store = new SessionStore(t.redis, t.keys);
const T0 = Date.now() - 60_000;
const HOUR = 3_600_000;

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(() => t.cleanup());

/** A refresh that carries only the session id and a new expiry (as many IdPs send it). */
function refresh(sessionId: string, time: number, expiresAt: number, over: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return {
    type: 'session_refresh',
    id: `ref-${time}`,
    user: 'alice@example.com',
    outcome: 'success',
    time,
    session: { id: sessionId, expires_at: expiresAt },
    ...over,
  };
}

const loginIdentity = (): SessionIdentity => buildIdentity(login({ sessionId: 's-r', time: T0, expiresAt: T0 + HOUR }), settings())!;

describe('buildIdentity of a session refresh (pure)', () => {
  it('with the stored identity attached: the login’s identity, a later expiry, refreshed_at', () => {
    const stored = loginIdentity();
    const r = refresh('s-r', T0 + 30_000, T0 + 5 * HOUR, { device: { id: 'd-other' } });
    attachStored(r, stored);
    expect(buildIdentity(r, settings())).toEqual({ ...stored, expires_at: T0 + 5 * HOUR, refreshed_at: T0 + 30_000 });
  });

  it('the IdP’s fresh word is taken: claims and idp it carries, merged session attributes, the same device’s posture; the login’s context stays', () => {
    const stored = loginIdentity();
    const r = refresh('s-r', T0 + 30_000, T0 + 5 * HOUR, {
      session: { id: 's-r', expires_at: T0 + 5 * HOUR, idp: 'entra', claims: { email: 'alice@example.com', groups: ['eng', 'admins'] }, amr: ['mfa'] },
      device: { id: 'd-9', posture: { os: 'macOS 15.2', disk_encrypted: true, firewall: false } },
      network: { asn: 1221 },
      geo: { country: 'AU' },
    });
    attachStored(r, stored);
    const id = buildIdentity(r, settings())!;
    expect(id).toEqual({
      ...stored,
      idp: 'entra',
      claims: { email: 'alice@example.com', groups: ['eng', 'admins'] },
      attributes: { amr: ['mfa'] },
      device: { id: 'd-9', posture: { os: 'macOS 15.2', disk_encrypted: true, firewall: false } },
      expires_at: T0 + 5 * HOUR,
      refreshed_at: T0 + 30_000,
    });
    // The login's network and location: session_hijack's baseline.
    expect(id).toMatchObject({ network: stored.network, geo: stored.geo, login_at: T0 });
  });

  it('a refresh older than one already applied (arriving late) extends the session but keeps the later refresh’s word (found by a black-box review)', () => {
    const stored = loginIdentity();
    const newer = refresh('s-r', T0 + 50_000, T0 + 3 * HOUR, {
      session: { id: 's-r', expires_at: T0 + 3 * HOUR, claims: { groups: ['new'] }, amr: ['mfa'] },
      device: { id: stored.device!.id as string, posture: { v: 3 } },
    });
    attachStored(newer, stored);
    const afterNewer = buildIdentity(newer, settings())!;
    const older = refresh('s-r', T0 + 20_000, T0 + 4 * HOUR, {
      session: { id: 's-r', expires_at: T0 + 4 * HOUR, claims: { groups: ['OLD-admins'] }, amr: ['pwd'], acr: 'x' },
      device: { id: stored.device!.id as string, posture: { v: 2 } },
    });
    attachStored(older, afterNewer);
    const id = buildIdentity(older, settings())!;
    expect(id.claims).toEqual({ groups: ['new'] });
    expect(id.device).toEqual(afterNewer.device);
    expect(id.attributes).toEqual({ acr: 'x', amr: ['mfa'] });
    expect(id.refreshed_at).toBe(T0 + 50_000);
    expect(id.expires_at).toBe(T0 + 4 * HOUR); // the later expiry still counts
  });

  it('an earlier expiry does not shorten the session', () => {
    const stored = loginIdentity();
    const r = refresh('s-r', T0 + 30_000, T0 + 10_000);
    attachStored(r, stored);
    expect(buildIdentity(r, settings())?.expires_at).toBe(T0 + HOUR);
  });

  it('nothing attached, another user’s session, or the same login again: the event’s own identity', () => {
    expect(buildIdentity(refresh('s-r', T0 + 1, T0 + 2 * HOUR), settings())).toMatchObject({ claims: {}, login_at: T0 + 1, expires_at: T0 + 2 * HOUR });
    const other = refresh('s-r', T0 + 1, T0 + 2 * HOUR, { user: 'bob@example.com' });
    attachStored(other, loginIdentity());
    expect(buildIdentity(other, settings())).toMatchObject({ user: 'bob@example.com', login_at: T0 + 1 });
    const replay = login({ sessionId: 's-r', time: T0, device: { id: 'd-new' } });
    attachStored(replay, loginIdentity());
    expect(buildIdentity(replay, settings())).toMatchObject({ login_at: T0, device: { id: 'd-new' } });
    expect(buildIdentity(replay, settings())!.refreshed_at).toBeUndefined();
  });

  it('a later login of the user with the same session id extends the stored session as a refresh does: the first login’s device stays', () => {
    const again = login({ sessionId: 's-r', time: T0 + 1, device: { id: 'd-new' } });
    attachStored(again, loginIdentity());
    expect(buildIdentity(again, settings())).toMatchObject({ login_at: T0, device: { id: 'd-9' }, refreshed_at: T0 + 1 });
  });

  it('a refresh of a session never seen stands as its start, marked from_refresh; its login, arriving later but earlier in event time, takes the baseline back', () => {
    const early = refresh('s-r', T0 + 30_000, T0 + 5 * HOUR, {
      session: { id: 's-r', expires_at: T0 + 5 * HOUR, claims: { email: 'alice@example.com', groups: ['eng', 'admins'] } },
      device: { id: 'd-evil' },
      network: { asn: 66 },
      geo: { country: 'RU' },
    });
    const alone = buildIdentity(early, settings())!;
    expect(alone).toMatchObject({ from_refresh: true, login_at: T0 + 30_000, device: { id: 'd-evil' } });
    const late = login({ sessionId: 's-r', time: T0, expiresAt: T0 + HOUR });
    attachStored(late, alone);
    const merged = buildIdentity(late, settings())!;
    expect(merged).toEqual({
      ...loginIdentity(),
      event_id: late.id,
      claims: { email: 'alice@example.com', groups: ['eng', 'admins'] }, // the refresh's, later: the IdP's fresh word
      expires_at: T0 + 5 * HOUR,
      refreshed_at: T0 + 30_000,
    });
    expect(merged.from_refresh).toBeUndefined();
  });

  it('the same device seen again without a posture keeps the posture reported before', () => {
    const r = refresh('s-r', T0 + 30_000, T0 + 2 * HOUR, { device: { id: 'd-9' } });
    attachStored(r, loginIdentity());
    expect(buildIdentity(r, settings())!.device).toEqual(loginIdentity().device);
  });

  it('the attachment survives the partition entry’s encoding; input JSON cannot forge it', () => {
    const stored = loginIdentity();
    const r = refresh('s-r', T0 + 1, T0 + 2 * HOUR);
    attachStored(r, stored);
    const [item] = decodeRouted(encodeRouted([{ k: [1, 0], s: 'x', i: '1-0', e: r, x: attachedOf(r)! }])) as Array<Extract<RoutedItem, { e: unknown }>>;
    expect(storedOf(item!.e)).toEqual(stored);
    const forged = JSON.parse(JSON.stringify(r)) as CanonicalEvent;
    expect(storedOf(forged)).toBeUndefined();
  });
});

describe('a refresh through the router’s lookup and the store', () => {
  it('extends the stored session: its claims, device and login time stay, the expiry and refreshed_at move (session_hijack off)', async () => {
    const stored = loginIdentity();
    await store.put([stored]);
    const enrich = sessionUseEnricher(store, () => ({ sessionsEnabled: true, behaviors: [] }));
    const batch = batchOf([refresh('s-r', T0 + 30_000, T0 + 5 * HOUR)]);
    await enrich(batch);
    expect(storedOf(batch[0]!.event)).toEqual(stored);
    await store.put([buildIdentity(batch[0]!.event, settings())!]);
    const now = await store.get('s-r');
    expect(now).toEqual({ ...stored, expires_at: T0 + 5 * HOUR, refreshed_at: T0 + 30_000 });
    expect((await store.listUser('alice@example.com')).map((s) => s.expires_at)).toEqual([T0 + 5 * HOUR]);
  });

  it('a login older than the stored identity replaces it when that came from a refresh (never otherwise)', async () => {
    const early = refresh('s-r', T0 + 30_000, T0 + 5 * HOUR, { device: { id: 'd-evil' } });
    await store.put([buildIdentity(early, settings())!]);
    const enrich = sessionUseEnricher(store, () => ({ sessionsEnabled: true, behaviors: [] }));
    const batch = batchOf([login({ sessionId: 's-r', time: T0, expiresAt: T0 + HOUR })]);
    await enrich(batch);
    await store.put([buildIdentity(batch[0]!.event, settings())!]);
    expect(await store.get('s-r')).toMatchObject({ login_at: T0, device: { id: 'd-9' }, expires_at: T0 + 5 * HOUR, refreshed_at: T0 + 30_000 });
    expect((await store.get('s-r'))!.from_refresh).toBeUndefined();
    // The listing (newest login first) places it by its login now, not by the refresh.
    await store.put([buildIdentity(login({ sessionId: 's-mid', time: T0 + 10_000, expiresAt: T0 + HOUR }), settings())!]);
    expect((await store.listAll()).sessions.map((x) => x.session_id)).toEqual(['s-mid', 's-r']);
    // A login's identity stays: an older login is refused as before.
    const older = login({ sessionId: 's-r', time: T0 - 1000, device: { id: 'd-old' } });
    await store.put([buildIdentity(older, settings())!]);
    expect(await store.get('s-r')).toMatchObject({ login_at: T0, device: { id: 'd-9' } });
  });

  it('an identity started by a refresh (built without the stored one) never replaces one started by a login', async () => {
    const first = loginIdentity();
    await store.put([first]);
    const stray = buildIdentity(refresh('s-r', T0 + 30_000, T0 + 5 * HOUR, { device: { id: 'd-evil' } }), settings())!;
    expect(stray.from_refresh).toBe(true);
    await store.put([stray]);
    expect(await store.get('s-r')).toEqual(first);
  });

  it('a field named from_refresh inside the identity (a claim, a device field) does not make it a refresh’s start (found by a black-box review)', async () => {
    await store.put([loginIdentity()]);
    const enrich = sessionUseEnricher(store, () => ({ sessionsEnabled: true, behaviors: [] }));
    // The IdP's fresh claims carry a claim of that name: the refresh extends the session all the same.
    const r = refresh('s-r', T0 + 30_000, T0 + 5 * HOUR);
    r.session!.claims = { from_refresh: true, groups: ['eng'] };
    const batch = batchOf([r]);
    await enrich(batch);
    const extended = buildIdentity(batch[0]!.event, settings())!;
    expect(extended.from_refresh).toBeUndefined();
    expect(await store.put([extended])).toMatchObject({ stored: 1 });
    expect(await store.get('s-r')).toMatchObject({ login_at: T0, expires_at: T0 + 5 * HOUR, refreshed_at: T0 + 30_000, claims: { from_refresh: true } });
    expect((await store.listUser('alice@example.com')).map((x) => x.expires_at)).toEqual([T0 + 5 * HOUR]);
    // A login's identity whose device has such a field is a login's: a login older than it is refused.
    const odd = buildIdentity(login({ sessionId: 's-odd', time: T0, expiresAt: T0 + HOUR, device: { id: 'd-9', from_refresh: true } }), settings())!;
    await store.put([odd]);
    expect(
      await store.put([buildIdentity(login({ sessionId: 's-odd', time: T0 - 1000, expiresAt: T0 + HOUR, device: { id: 'd-old' } }), settings())!]),
    ).toMatchObject({ stored: 0 });
    expect(await store.get('s-odd')).toEqual(odd);
  });

  it('the device registry takes the posture a refresh reports for the session’s device, seen at the refresh’s time; a refresh from another device leaves it (found by a black-box review)', async () => {
    // Two sessions on one laptop; then the older one is refreshed, the laptop's firewall now off.
    await store.put([loginIdentity()]);
    await store.put([
      buildIdentity(
        login({ sessionId: 's-2', time: T0 + 10_000, expiresAt: T0 + HOUR, device: { id: 'd-9', posture: { os: 'macOS 15.1', firewall: true } } }),
        settings(),
      )!,
    ]);
    const enrich = sessionUseEnricher(store, () => ({ sessionsEnabled: true, behaviors: [] }));
    const batch = batchOf([refresh('s-r', T0 + 30_000, T0 + 2 * HOUR, { device: { id: 'd-9', posture: { os: 'macOS 15.2', firewall: false } } })]);
    await enrich(batch);
    await store.put([buildIdentity(batch[0]!.event, settings())!]);
    expect((await store.get('s-r'))!.device).toEqual({ id: 'd-9', posture: { os: 'macOS 15.2', firewall: false } });
    expect(await store.devices('alice@example.com')).toEqual([
      { id: 'd-9', posture: { os: 'macOS 15.2', firewall: false }, last_seen: T0 + 30_000, ip: '81.2.69.142', session_id: 's-r' },
    ]);
    // A refresh of the session from another device is no report of the laptop.
    const other = batchOf([refresh('s-r', T0 + 40_000, T0 + 2 * HOUR, { device: { id: 'd-evil', posture: { os: 'x' } } })]);
    await enrich(other);
    await store.put([buildIdentity(other[0]!.event, settings())!]);
    expect(await store.devices('alice@example.com')).toEqual([
      { id: 'd-9', posture: { os: 'macOS 15.2', firewall: false }, last_seen: T0 + 30_000, ip: '81.2.69.142', session_id: 's-r' },
    ]);
  });

  it('sessions off: no lookup, nothing attached', async () => {
    await store.put([loginIdentity()]);
    const enrich = sessionUseEnricher(store, () => ({ sessionsEnabled: false, behaviors: [] }));
    const batch = batchOf([refresh('s-r', T0 + 30_000, T0 + 5 * HOUR)]);
    await enrich(batch);
    expect(storedOf(batch[0]!.event)).toBeUndefined();
  });
});
