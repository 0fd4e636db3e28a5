/**
 * Poison containment: an entry that fails its partition's step or commit every time, or kills the
 * worker every time, must not hold the partition (and its users' scoring) for ever. Attempts are
 * counted per partition and committed position, never on the hot path: an owner taking the
 * partition counts one (a crashed owner never got past the position; one handing it over cleanly
 * takes its start back), a step or commit failing because of the data counts one. After {@link POISON_ATTEMPTS} the partition is isolated over
 * what the failing attempts could have held — up to the last entry read by the steps that failed
 * on the data there, else (crashes) the entries an owner may hold uncommitted ({@link heldEntries}),
 * never past the stream's last entry; the window is kept in the position hash, so a crash in it
 * resumes it. Its items are applied one at a time, each committed before the next, and each try
 * recorded in Redis before it is made; the entries after it in ordinary steps (a poison there
 * fails or crashes attempts at a later position again). An item whose {@link POISON_ATTEMPTS}
 * tries alone all failed or crashed is dead-lettered (`processing_crashed`, or `step_failed:
 * <code>` when this process saw it fail) and passed over in the commit that advances the position.
 * Not counted: Redis unreachable, a lease lost, a commit fenced or refused during a slot move — nor
 * a try alone that ended so (its owner takes it back: {@link PoisonGuard.abandoned}), unless the
 * item's own work (apply, commit building) took long enough to cost the lease ({@link stallAfter}):
 * an item blocking the event loop past the lease ttl is a try, as a crash is.
 */
import type { Keys } from '../keys.js';
import { errorCode } from '../errors.js';
import { keyId, parseKey, compareKeys, type OrderKey } from '../partition.js';
import type { RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';
import { defaultLeaseMargin } from './lease-options.js';
import type { Owned } from './owner-types.js';

/** Attempts at one committed position after which its partition is isolated, and tries of one item alone after which it is dead-lettered. */
export const POISON_ATTEMPTS = 3;

/** How the reason of a dead letter whose item crashed the worker each time it was tried alone reads. */
export const PROCESSING_CRASHED = 'processing_crashed';
/** How the reason of a dead letter whose item failed its step or commit each time it was tried alone starts; its error code follows. */
export const STEP_FAILED = 'step_failed: ';

interface Guarded {
  /** The position the partition is applied one item at a time up to (null: not isolated). */
  isolate: OrderKey | null;
  /** The committed position whose next item this process counted a try of, with no failure of the data since. */
  tried: string | null;
  /** The last failure of the data this process saw, at its committed position. */
  failure?: { pos: string; code: string };
  /** How long the tried item's own work (apply, commit building) ran since its try was recorded (ms). */
  worked?: number;
}

/**
 * How long an item's own work must have blocked the event loop for a lease lost after it to be
 * its doing (its try kept): half the shortest stall that can cost a lease — the lease is lost once
 * not renewed for `ttl` less its margin ({@link defaultLeaseMargin}, src/engine/leases.ts), and it was last
 * renewed up to a `heartbeat` before the stall began (so always under half the ttl). An item's
 * apply takes microseconds; a lease lost while its commit waits for Redis is no try of it.
 */
export function stallAfter(ttl: number, heartbeat: number): number {
  return Math.max(0, ttl - defaultLeaseMargin(ttl) - heartbeat) / 2;
}

/** The partitions' attempts and isolation, for one owner. */
export class PoisonGuard {
  private readonly parts = new Map<number, Guarded>();
  /** Tries being taken back ({@link abandoned}). */
  private readonly untrying = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly limit = POISON_ATTEMPTS,
    /** The entries an owner may hold uncommitted per partition: how far a crashed owner may have read ({@link heldEntries}). */
    private readonly span = 0,
    /** How long a tried item's own work must run for a lease lost after it to keep its try ({@link stallAfter}; ms). */
    private readonly stall = stallAfter(10_000, 2_000),
  ) {}

  /** Counts a start at its committed position for each partition just taken (`fresh`): a crashed owner never got past it. */
  async taken(owned: ReadonlyMap<number, Owned>): Promise<void> {
    const fresh = [...owned].filter(([, o]) => o.fresh);
    for (const [p, o] of fresh) {
      o.fresh = false;
      this.parts.set(p, { isolate: null, tried: null });
    }
    await Promise.all(fresh.map(([p, o]) => this.count(p, o.token, 'start')));
  }

  /** True while partition `p` at committed position `committed` is applied one item at a time. */
  isolated(p: number, committed: OrderKey | null): boolean {
    const iso = this.parts.get(p)?.isolate;
    return !!iso && committed !== null && compareKeys(committed, iso) < 0;
  }

  /**
   * True while some partition of `owned` is isolated now (no read is sent ahead then): not one whose
   * isolation it has applied past, nor one no longer owned.
   */
  any(owned: ReadonlyMap<number, Owned>): boolean {
    for (const [p, o] of owned) if (this.isolated(p, o.committed)) return true;
    return false;
  }

  /**
   * Partition `p`'s step or commit failed because of the data (`err`) at committed position
   * `committed`: counted (isolated, the next try of its item counts it).
   */
  async failed(p: number, o: Owned, err: unknown): Promise<void> {
    const g = this.parts.get(p) ?? { isolate: null, tried: null };
    this.parts.set(p, g);
    if (o.committed === null) return;
    g.failure = { pos: keyId(o.committed), code: errorCode(err) };
    g.tried = null;
    // The last entry read: the failing step (or commit) held nothing after it.
    if (!this.isolated(p, o.committed)) await this.count(p, o.token, 'fail', o.cursor);
  }

  /**
   * Partition `p` isolated, its next item is about to be tried alone: records the try (unless this
   * process counted one at this position and saw no failure of the data since: a retry after Redis
   * or a lease failed is not counted again). True when the item is to be dead-lettered instead:
   * the limit of tries alone failed or crashed before this one. The partition lost (or taken
   * again) while the try was recorded (`owned` no longer holds it under `o`'s token): that try is
   * taken back at once — its item is not applied here.
   */
  async passOver(p: number, o: Owned, owned: ReadonlyMap<number, Owned>): Promise<boolean> {
    const g = this.parts.get(p);
    if (!g || o.committed === null) return false;
    const pos = keyId(o.committed);
    if (g.tried === pos) return false;
    const r = await this.attempt(p, o.token, 'try');
    if (r === -1) return false; // the lease moved: its commit is fenced
    if (owned.get(p)?.token !== o.token) {
      this.untry(p, o.token);
      return false;
    }
    g.tried = pos;
    g.worked = 0;
    return r[0] === pos && r[1] - 1 >= this.limit;
  }

  /** Partition `p`'s item tried alone did `ms` of its own work (applied, its commit built): see {@link abandoned}. */
  worked(p: number, ms: number): void {
    const g = this.parts.get(p);
    if (g?.tried) g.worked = (g.worked ?? 0) + ms;
  }

  /**
   * Partition `p` forgotten (its lease lost, taken again, handed over) while an item of it was tried
   * alone with no failure of the data seen: that try is taken back — a lease loss is no try, only
   * a failure or a crash (no owner left to take it back) is. Kept, though, when the item's own work
   * ran for {@link stallAfter} or longer: blocking the event loop, it cost the lease itself (the
   * loss can only be seen once that work is done: it never yields), and every owner in turn would
   * lose it the same way, the partition stuck for ever. The script takes back one try this
   * token counted at the position Redis holds now, so a try whose item committed meanwhile is left
   * alone. Never throws (Redis away: the try stays counted); {@link settled} waits for it.
   */
  abandoned(p: number, token: string): void {
    const g = this.parts.get(p);
    if (!g?.tried) return;
    const stalled = (g.worked ?? 0) >= this.stall;
    g.tried = null;
    g.worked = 0;
    if (!stalled) this.untry(p, token);
  }

  /** Takes back one try `token` counted at partition `p`'s position (never throws; {@link settled} waits for it). */
  private untry(p: number, token: string): void {
    const back = this.attempt(p, token, 'untry').catch(() => undefined);
    this.untrying.add(back);
    void back.finally(() => this.untrying.delete(back));
  }

  /** Waits for the tries being taken back. */
  async settled(): Promise<void> {
    await Promise.all(this.untrying);
  }

  /**
   * Partitions handed over cleanly (released or stopped, their work committed): the starts counted
   * at their positions are forgotten — a rebalance or a graceful restart of an idle partition is no
   * crash and never adds up to isolating it. Not when this process saw its data fail there, nor
   * while it is isolated. Never throws (Redis away: the starts stay counted).
   */
  async handedOver(owned: ReadonlyArray<readonly [number, Owned | undefined]>): Promise<void> {
    for (const [p, o] of owned) if (o) this.abandoned(p, o.token);
    const clean = owned.filter(([p, o]) => o?.committed && this.parts.get(p)?.failure?.pos !== keyId(o.committed) && !this.isolated(p, o.committed));
    await Promise.all(clean.map(([p, o]) => this.attempt(p, o!.token, 'clear').catch(() => undefined)));
    await this.settled();
  }

  /** The reason of the dead letter of partition `p`'s item after `committed`. */
  reason(p: number, committed: OrderKey): string {
    const f = this.parts.get(p)?.failure;
    return f && f.pos === keyId(committed) ? `${STEP_FAILED}${f.code}` : PROCESSING_CRASHED;
  }

  /** engine-attempt-3.lua on partition `p`'s lease, position hash and stream, with this guard's limit. */
  private attempt(p: number, token: string, kind: 'start' | 'fail' | 'try' | 'untry' | 'clear', reach = ''): Promise<-1 | [string, number, string]> {
    const keys = this.keys;
    const lease = keys.engineLease(`p${p}`);
    return scriptsOn(this.redis).engineAttempt(lease, keys.partitionPos(p), keys.partitionIn(p), token, kind, String(this.limit), String(this.span), reach);
  }

  private async count(p: number, token: string, kind: 'start' | 'fail', reach?: string): Promise<void> {
    const r = await this.attempt(p, token, kind, reach);
    const g = this.parts.get(p);
    if (r === -1 || !g) return;
    g.isolate = r[2] ? parseKey(r[2]) : null;
  }
}

/**
 * The entries an owner with these settings may hold uncommitted in one partition: a step reads up
 * to `readCount` entries past the `commitEntries` that make a commit due, and the next delta grows
 * as much again while that commit is in flight (each entry at least one item).
 */
export function heldEntries(opts: { readCount: number; commitEntries: number }): number {
  return 2 * (opts.commitEntries + opts.readCount);
}

/** The error code of a dead letter of an item tried alone (`step_failed: <code>`; `PROCESSING_CRASHED` for `processing_crashed`), or undefined for another reason. */
export function aloneFailedCode(reason: string): string | undefined {
  if (reason === PROCESSING_CRASHED) return 'PROCESSING_CRASHED';
  return reason.startsWith(STEP_FAILED) ? reason.slice(STEP_FAILED.length) : undefined;
}
