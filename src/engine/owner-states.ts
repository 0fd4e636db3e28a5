import { byPartition as byPartitionOf, corked, getAll, pipeline, type RedisClient } from '../redis/client.js';
import { LRUCache } from 'lru-cache';
import type { Keys } from '../keys.js';
import { parseKey, ZERO_KEY } from '../partition.js';
import { decodeState } from '../risk/state-codec.js';
import { emptyState, type UserState } from '../risk/state.js';
import { emptyDelta, type PartitionDelta } from './commit.js';
import type { Owned } from './owner-types.js';
import { pendingKey } from './pending-sessions.js';
import type { NotStored } from './commit-send.js';
import { attachStored, isSessionLogin, type SessionIdentity } from '../sessions/identity.js';
import { attachCaptured, capturedOf } from '../detect/captured-session.js';
import { baselineFor, capturedFromIdentity } from '../sessions/baseline.js';
import type { CanonicalEvent } from '../types.js';

/**
 * Session identities kept after their commit (about the sessions the router may route ahead of the
 * owner: `engine.max_routed` entries, three in four of them logins at most).
 */
const COMMITTED_SESSIONS = 15_000;

/**
 * A partition owner's users' states in memory: applied and not committed (a delta per partition),
 * in the commit in flight, and cached (an LRU, with the index signature last committed); a miss
 * loads from the partition's state hash.
 */
export class OwnerStates {
  /** What each partition applied since its last commit (replaced by a fresh map when a commit starts). */
  deltas = new Map<number, PartitionDelta>();
  /** The commit in flight: its deltas (their states current until it lands) and its end. */
  inflight: { deltas: Map<number, PartitionDelta>; done: Promise<void> } | null = null;
  /** Users' states by user, most recently used kept. */
  readonly cache: LRUCache<string, { state: UserState; sig?: string }>;
  /**
   * Session identities this owner committed lately, by user and session id: a refresh (or a second
   * login) routed before its login's commit landed and applied after it finds the identity here.
   */
  readonly sessions = new LRUCache<string, SessionIdentity>({ max: COMMITTED_SESSIONS });
  /**
   * Sessions a read found nothing stored of (by {@link pendingKey}, with their partition): while the
   * partition is owned here only this owner stores its identities, so nothing is read for them again.
   */
  readonly absent = new LRUCache<string, number>({ max: COMMITTED_SESSIONS });

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    lruSize: number,
  ) {
    this.cache = new LRUCache({ max: Math.max(lruSize, 1) });
  }

  /** The state of a user now: uncommitted, in flight, cached, else stored. */
  current(user: string, p: number): UserState | undefined {
    return this.deltas.get(p)?.states.get(user) ?? this.inflight?.deltas.get(p)?.states.get(user) ?? this.cache.get(user)?.state;
  }

  /** Partition `p`'s delta since its last commit (a new one, at `o`'s applied position, if none). */
  delta(p: number, o: Owned): PartitionDelta {
    let d = this.deltas.get(p);
    if (!d) this.deltas.set(p, (d = emptyDelta(p, o.applied)));
    return d;
  }

  /** Forgets partitions' uncommitted deltas and their users' cached states (one pass over the cache for them all). */
  forget(gone: ReadonlySet<number>): void {
    for (const p of gone) this.deltas.delete(p);
    for (const user of [...this.cache.keys()]) if (gone.has(this.keys.partitionOf(user))) this.cache.delete(user);
    // Another owner may change them meanwhile: read from the store (through the router) again.
    for (const [k, s] of [...this.sessions.entries()]) if (gone.has(this.keys.partitionOf(s.user))) this.sessions.delete(k);
    for (const [k, p] of [...this.absent.entries()]) if (gone.has(p)) this.absent.delete(k);
  }

  /**
   * True when a session is to read: this owner holds nothing of it and has not found it absent from
   * the store, or holds (as committed) only a sign-out kept with no login, which the store lets go
   * after its wall-clock hours (src/sessions/sign-out.ts) while this memory would keep it.
   */
  unknownSession(k: string, held: SessionIdentity | undefined): boolean {
    if (held) return held.sign_out_only === true && this.sessions.peek(k) === held;
    return !this.absent.has(k);
  }

  /** Loads users' states missing from memory (one HMGET per partition's state hash, all in one write) into `base` and the LRU. */
  async load(missing: Array<[string, number]>, base: Map<string, UserState>): Promise<void> {
    const parts = [...byPartitionOf(missing, ([, p]) => p)];
    const res = await Promise.all(corked(this.redis, () => parts.map(([p, us]) => this.redis.hmgetBuffer(this.keys.partitionState(p), ...us.map(([u]) => u)))));
    parts.forEach(([, us], i) =>
      us.forEach(([user], j) => {
        const state = decodeState(res[i]![j] ?? null, user) ?? emptyState(user);
        base.set(user, state);
        this.cache.set(user, { state });
      }),
    );
  }

  /**
   * Reads the stored identities of `reads` (one read, each session once) and attaches each to its
   * events as a refresh or a use would find it in this owner's memory: the identity to extend (to a
   * login), the session_hijack baseline (as the router attaches it). What was read is remembered —
   * an identity among those committed lately, a session with none as absent —, so a session is read
   * at most once while its partition is owned here.
   */
  async loadSessions(reads: readonly SessionRead[]): Promise<void> {
    if (!reads.length) return;
    const byKey = new Map<string, SessionRead[]>();
    for (const r of reads) {
      const k = pendingKey(r.event.user, r.sid);
      const list = byKey.get(k);
      if (list) list.push(r);
      else byKey.set(k, [r]);
    }
    const groups = [...byKey];
    const raw = await getAll(
      this.redis,
      groups.map(([, [r]]) => this.keys.session(r!.p, r!.sid)),
    );
    groups.forEach(([k, rs], i) => {
      const s = parseIdentity(raw[i]);
      if (!s || s.user !== rs[0]!.event.user) {
        // A sign-out kept with no login that the store let go is gone from this memory too.
        if (this.sessions.peek(k)?.sign_out_only) this.sessions.delete(k);
        return void this.absent.set(k, rs[0]!.p);
      }
      this.sessions.set(k, s);
      for (const r of rs) attachRead(r.event, s);
    });
  }

  /**
   * A partition's commit landed: its users still cached with the state it wrote get the index
   * signatures it wrote — those whose idle entry the sweep fixed lose theirs unless so (their
   * entries no longer what the signature says: written whole again by their next commit); its
   * latest session identities are kept, but not those the store refused or trimmed: the owner's
   * memory holds what a restarted owner would read from the store.
   */
  signed(d: PartitionDelta, sigs: Map<string, string>, notStored: NotStored = { unstored: [], trimmed: [] }): void {
    for (const [user, sig] of sigs) {
      const c = this.cache.peek(user);
      if (c && c.state === d.states.get(user)) c.sig = sig;
    }
    for (const user of d.idleFix?.keys() ?? []) {
      const c = this.cache.peek(user);
      if (c && !(sigs.has(user) && c.state === d.states.get(user))) delete c.sig;
    }
    if (d.latest)
      for (const [k, s] of d.latest) {
        this.sessions.set(k, s);
        this.absent.delete(k); // stored now: if the identity leaves this memory, the store is read again
      }
    for (const s of notStored.unstored) {
      const k = pendingKey(s.user, s.session_id);
      if (this.sessions.peek(k) === s) this.sessions.delete(k);
    }
    for (const [user, sid] of notStored.trimmed) this.sessions.delete(pendingKey(user, sid));
  }
}

/** A session login whose session's stored identity is read before it is applied. */
export interface SessionRead {
  p: number;
  /** The stored session id. */
  sid: string;
  event: CanonicalEvent;
}

/**
 * Attaches a session's stored identity, read by the owner, to an event using it, unless it expired
 * before the event (as an identity the owner holds): to a login as the identity it extends; as the
 * baseline — the store's login is the session's first — unless the router attached an earlier one,
 * and to a login only when it is a use (the router's rule).
 */
function attachRead(e: CanonicalEvent, s: SessionIdentity): void {
  if (s.expires_at <= e.time) return;
  if (isSessionLogin(e)) attachStored(e, s);
  if (s.sign_out_only) return; // a sign-out kept with no login: no baseline
  const routed = capturedOf(e);
  if ((!routed || routed.user !== e.user || s.login_at < routed.login_at) && baselineFor(e, s)) attachCaptured(e, capturedFromIdentity(s));
}

function parseIdentity(raw: string | null | undefined): SessionIdentity | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as SessionIdentity;
    return typeof v === 'object' && v !== null && typeof v.user === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Loads the committed position of partitions just acquired (those of `owned` not loaded yet). */
export async function loadPositions(redis: RedisClient, keys: Keys, owned: ReadonlyMap<number, Owned>): Promise<void> {
  const fresh = [...owned].filter(([, o]) => o.committed === null);
  if (!fresh.length) return;
  const p = pipeline(redis);
  for (const [n] of fresh) p.hget(keys.partitionPos(n), 'pos');
  const res = (await p.exec()) ?? [];
  fresh.forEach(([n, o], i) => {
    const [err, pos] = res[i] ?? [];
    if (err || owned.get(n) !== o) return;
    o.committed = pos ? parseKey(String(pos)) : ZERO_KEY;
    o.applied = o.committed;
    o.cursor = pos ? String(pos) : '0';
  });
}
