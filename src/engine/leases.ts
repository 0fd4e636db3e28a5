/**
 * The ownership layer of the partitioned engine: each resource (partition `p<n>`, router
 * `r:<stream>`) has one owner at a time through a Redis lease whose value is a fencing token
 * `${workerId}#${epoch}`. Every heartbeat a worker renews what it holds, scores itself in the
 * membership set and rebalances: it acquires what rendezvous hashing assigns to it and asks the
 * engine to hand back (`onRevoke` → `release`) what is assigned elsewhere.
 */
import { pipeline, type RedisClient } from '../redis/client.js';
import { defineScripts, queueScript, scriptsOn } from '../redis/scripts.js';
import { assign } from './assignment.js';
import { membersKey, parseLeaseToken, resourceKeys } from './lease-keys.js';
import { checkLeaseOptions, defaultLeaseMargin, type Lease, type LeaseManagerOptions } from './lease-options.js';
import { LossLog } from './loss-log.js';
import { sendRenewals, type RenewAnswer } from './lease-renew.js';
import { acquireLeases, heartbeatMembers, logLeaseFailures } from './membership.js';

export type { Lease, LeaseManagerOptions } from './lease-options.js';

/** Holds, renews, balances and releases this worker's leases. */
export class LeaseManager {
  private readonly leases = new Map<string, Lease>();
  private readonly renewedAt = new Map<string, number>();
  private readonly revoking = new Set<string>();
  /** What a {@link stop} is releasing (again by a later stop on another connection). */
  private releasing: Lease[] = [];
  private readonly now: () => number;
  private readonly marginMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private fenced = false;
  private readonly lossLog: LossLog;
  private readonly acquireFailed: (failures: Array<{ resource: string; err: Error }>) => void;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly opts: LeaseManagerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.marginMs = opts.marginMs ?? defaultLeaseMargin(opts.ttlMs);
    this.lossLog = new LossLog(opts.workerId, opts.logger);
    this.acquireFailed = logLeaseFailures(prefix, opts.workerId, opts.logger);
    checkLeaseOptions(opts, this.marginMs);
    defineScripts(redis);
  }

  /** Joins the membership and runs the first heartbeat (acquiring this worker's share) before resolving; then one every `heartbeatMs`. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.stopped = false;
    try {
      await this.cycle();
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
    this.timer = setInterval(() => void this.tick(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  /** True once a newer process with this worker id took one of its leases: it lost them all and acquires nothing more (it should exit). */
  get superseded(): boolean {
    return this.fenced;
  }

  /** The leases held (some may be past {@link holds} until the next heartbeat notices). */
  owned(): ReadonlyMap<string, Lease> {
    return this.leases;
  }

  /** True while this worker holds the lease and, by its own clock, it cannot have expired (renewed less than ttl − margin ago). */
  holds(resource: string): boolean {
    const at = this.renewedAt.get(resource);
    return this.leases.has(resource) && at !== undefined && this.now() - at < this.opts.ttlMs - this.marginMs;
  }

  /**
   * Takes a held lease again with an epoch above `floor` (a fence of that epoch refused it, yet the
   * lease is ours: its epoch counter was lost, or reset, while the fences stayed). Calls onAcquired
   * with the new token; when the lease is no longer ours, it is lost.
   */
  async raise(resource: string, floor: number): Promise<void> {
    const held = this.leases.get(resource);
    if (!held || held.epoch >= floor || this.stopped || this.fenced) return;
    const k = resourceKeys(this.prefix, resource);
    const sent = this.now();
    const [ok, token] = await scriptsOn(this.redis).leaseAcquire(k.lease, k.epoch, this.opts.workerId, this.opts.ttlMs, floor);
    if (this.leases.get(resource) !== held) return; // released or lost meanwhile
    if (ok !== 1) return this.lose(resource, 'taken over');
    const lease: Lease = { resource, token, epoch: parseLeaseToken(token)?.epoch ?? 0, acquiredAt: sent };
    this.opts.logger?.warn(
      { resource, epoch: held.epoch, fence: floor, now: lease.epoch },
      'engine lease epoch was behind its fence (epoch counter lost?): taken again above it',
    );
    this.leases.set(resource, lease);
    this.renewedAt.set(resource, sent);
    await this.started(lease);
  }

  /** Gives a lease back: forgotten at once, deleted in Redis only while it still holds our token. */
  async release(resource: string): Promise<void> {
    const lease = this.leases.get(resource);
    if (!lease) return;
    this.forget(resource);
    await scriptsOn(this.redis).leaseRelease(resourceKeys(this.prefix, resource).lease, lease.token);
  }

  /**
   * One heartbeat: renew, membership, rebalance. Renewals go out on every call, each lease on its
   * own (on a cluster a master failing over stalls only the leases it serves); membership and
   * rebalance never overlap another call's (a call during one returns it). Errors are logged.
   */
  tick(): Promise<void> {
    if (this.running) {
      if (!this.stopped && !this.fenced) void this.renewAll();
      return this.running;
    }
    const run = this.cycle()
      .catch((err: unknown) => this.opts.logger?.warn({ err, worker: this.opts.workerId }, 'engine lease heartbeat failed (retried next heartbeat)'))
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  /**
   * Stops the heartbeat, releases every lease and leaves the membership. Stop the resources first:
   * their tokens die here. `via`: a connection to release on now, not waiting for a heartbeat in
   * flight (this worker's is held up: a last commit past its bound), also what a stop held up there
   * was releasing. Fenced: a commit of ours reaching Redis after that finds another token, or none.
   */
  async stop(via?: RedisClient): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    if (via) defineScripts(via);
    else await this.running;
    const held = [...this.leases.values(), ...this.releasing];
    for (const l of held) this.forget(l.resource);
    this.releasing = held;
    // Superseded: the membership entry under this id is the newer process's now — left to it.
    await this.giveBack(held, via, !this.fenced);
  }

  private async cycle(): Promise<void> {
    if (this.stopped || this.fenced) return;
    await this.renewAll();
    if (this.fenced) return;
    const members = await heartbeatMembers(this.redis, this.prefix, this.opts.workerId, this.opts.ttlMs);
    if (this.stopped) return;
    await this.rebalance(members);
  }

  /**
   * Renews every lease held ({@link sendRenewals}): a refused renew, or one unanswered past the
   * local expiry, is a loss. Waits for the answers up to half a heartbeat; a renewal still out then
   * is handled when it answers, and not sent again meanwhile.
   */
  private async renewAll(): Promise<void> {
    for (const r of this.renewing) if (this.leases.has(r) && !this.holds(r)) this.lose(r, 'not renewed within its ttl');
    const held = [...this.leases.values()].filter((l) => !this.renewing.has(l.resource));
    if (!held.length) return;
    const sent = this.now();
    const to = { redis: this.redis, prefix: this.prefix, workerId: this.opts.workerId, ttlMs: this.opts.ttlMs, waitMs: this.opts.heartbeatMs / 2 };
    await sendRenewals(to, held, this.renewing, (l, a) => this.renewed(l, sent, a));
  }

  /** Leases whose renewal is out (see {@link renewAll}). */
  private readonly renewing = new Set<string>();

  /** One renewal's answer. */
  private renewed(l: Lease, sent: number, a: RenewAnswer): void {
    if (this.leases.get(l.resource) !== l) return; // released (or lost and retaken) meanwhile
    if (a.kind === 'renewed') this.renewedAt.set(l.resource, Math.max(sent, this.renewedAt.get(l.resource) ?? 0));
    else if (a.kind === 'taken') {
      if (a.byUs && !this.fenced) {
        this.fenced = true;
        this.opts.logger?.error({ worker: this.opts.workerId }, 'engine: another process took over this worker id; this one acquires nothing more');
        for (const r of [...this.leases.keys()]) if (r !== l.resource) this.lose(r, 'superseded');
      }
      this.lose(l.resource, 'renew refused: expired or taken over');
    } else {
      if (a.err !== undefined)
        this.opts.logger?.debug({ err: a.err, worker: this.opts.workerId, resource: l.resource }, 'engine lease renew failed (retried next heartbeat)');
      if (!this.holds(l.resource)) this.lose(l.resource, 'not renewed within its ttl');
    }
  }

  /** Acquires what is assigned here and not held; asks the engine to hand back what is held and assigned elsewhere. */
  private async rebalance(members: string[]): Promise<void> {
    const me = this.opts.workerId;
    const owners = assign(this.opts.resources(), members);
    for (const r of this.leases.keys()) {
      if (owners.get(r) !== me && !this.revoking.has(r)) this.revoke(r);
    }
    const wanted = [...owners].filter(([r, owner]) => owner === me && !this.leases.has(r)).map(([r]) => r);
    if (!wanted.length) return;
    const sent = this.now();
    const acquired = await acquireLeases(this.redis, this.prefix, me, this.opts.ttlMs, wanted, sent, this.acquireFailed);
    if (this.stopped) return void (await this.giveBack(acquired)); // stopped meanwhile (on another connection)
    for (const lease of acquired) {
      this.leases.set(lease.resource, lease);
      this.renewedAt.set(lease.resource, sent);
    }
    await Promise.all(acquired.map((l) => this.started(l)));
  }

  /** Releases `leases` (each only while it holds its token) on `on`, and with `leave` leaves the membership. */
  private async giveBack(leases: readonly Lease[], on: RedisClient = this.redis, leave = false): Promise<void> {
    const p = pipeline(on);
    for (const l of leases) queueScript(p, 'leaseRelease', resourceKeys(this.prefix, l.resource).lease, l.token);
    if (leave) p.zrem(membersKey(this.prefix), this.opts.workerId);
    if (p.length) await p.exec();
  }

  private async started(lease: Lease): Promise<void> {
    try {
      await this.opts.onAcquired(lease);
    } catch (err) {
      this.opts.logger?.error({ err, resource: lease.resource }, 'engine resource failed to start; its lease is released');
      if (this.leases.get(lease.resource) === lease) await this.release(lease.resource).catch(() => undefined);
    }
  }

  private revoke(resource: string): void {
    this.revoking.add(resource);
    Promise.resolve()
      .then(() => this.opts.onRevoke(resource))
      .catch((err: unknown) => this.opts.logger?.error({ err, resource }, 'engine onRevoke failed'));
  }

  private lose(resource: string, why: string): void {
    this.forget(resource);
    this.lossLog.add(resource, why);
    try {
      this.opts.onLost(resource);
    } catch (err) {
      this.opts.logger?.error({ err, resource }, 'engine onLost failed');
    }
  }

  private forget(resource: string): void {
    this.leases.delete(resource);
    this.renewedAt.delete(resource);
    this.revoking.delete(resource);
  }
}
