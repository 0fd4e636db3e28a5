import { byPartition, pipeline, scanKeys, type RedisClient } from '../redis/client.js';
import { AuditLog, type AuditEntry } from '../audit/audit-log.js';
import type { Keys } from '../keys.js';
import { CONTROL_RESULT_TTL_MS } from '../engine/commit.js';
import type { ChainableCommander } from 'ioredis';
import type { BehaviorHit, LevelChange } from '../types.js';

/** A pending mark older than this, in a partition another worker owns, is relayed by any worker (its owner's relay failed or it is gone). */
export const STALE_PENDING_MS = 60_000;

/** A relayed behavior hit and its user. */
export interface UserHit {
  user: string;
  hit: BehaviorHit;
}

/**
 * Receives committed level changes (enqueues their SET deliveries) and hits (response policies),
 * before they leave the outbox: a crash repeats the call, so it must be idempotent per change / hit.
 */
export type ChangeSink = (changes: LevelChange[], hits: UserHit[]) => Promise<void>;

/** The audit entry of a level change riskstream made itself (a hit or an expiry; not a reset). */
export function levelChangedAudit(c: LevelChange): AuditEntry {
  return {
    action: 'risk.level_changed',
    actor: c.initiatingEntity,
    target: c.user,
    time: c.time,
    details: {
      previous: c.previous,
      level: c.current,
      version: c.version,
      reason: c.reason,
      behaviors: c.behaviors,
      change_id: c.id,
      occurred_at: new Date(c.occurredAt ?? c.time).toISOString(),
      processed_at: new Date(c.time).toISOString(),
    },
  };
}

/**
 * Moves committed outbox entries onward: level changes to the delivery queue (deterministic job
 * ids, so a repeat duplicates nothing), every hit and change to the global risk-events feed, and
 * riskstream's own level changes to the audit log (`risk.level_changed`; an admin's reset is
 * audited as `risk.reset` where it is made), then deletes them from the user's outbox. A crash
 * between the steps repeats them (the feed and the audit entry are at-least-once; deliveries stay
 * exactly-once through the job id and the delivered-version check).
 */
export class OutboxRelay {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly riskEventsStream: string,
    private readonly sink: ChangeSink,
    private readonly maxlen = 1_000_000,
    private readonly auditStream?: string,
  ) {}

  /** The relay in progress: relays run one at a time, so two never read the same entries. */
  private running: Promise<unknown> = Promise.resolve();

  /**
   * Relays the outboxes of the given users (after a commit). Returns the changes relayed. Calls
   * from the pipeline and the sweep are queued behind each other: run together, both would read
   * the same outbox entries before either deleted them and audit a change twice.
   */
  relay(users: Iterable<string>): Promise<LevelChange[]> {
    // Requests made while a relay runs are merged into the next one: after every commit (each few
    // ms under load) one relay each would queue up behind each other and delay every SET.
    for (const u of users) this.queued.add(u);
    if (!this.next) {
      const run = this.running.then(() => {
        const list = [...this.queued];
        this.queued.clear();
        this.next = null;
        return this.relayNow(list);
      });
      this.next = run;
      this.running = run.catch(() => undefined);
    }
    return this.next;
  }

  /** Users asked for while a relay runs, and the relay that will take them. */
  private readonly queued = new Set<string>();
  private next: Promise<LevelChange[]> | null = null;

  private async relayNow(list: string[]): Promise<LevelChange[]> {
    if (list.length === 0) return [];
    const read = pipeline(this.redis);
    // The pending marks go only once the entries are relayed: a failed sink leaves them for relayPending.
    for (const u of list) read.xrange(this.keys.userOutbox(u), '-', '+', 'COUNT', 1000);
    const res = (await read.exec()) ?? [];
    const changes: LevelChange[] = [];
    const hits: UserHit[] = [];
    const feed: Array<{ kind: string; data: string; user: string }> = [];
    const done: Array<{ user: string; ids: string[] }> = [];
    const audits: AuditEntry[] = [];
    const results: Array<{ user: string; req: string; outcome: unknown }> = [];
    list.forEach((user, i) => {
      const [err, rows] = res[i] ?? [];
      if (err) throw err;
      const ids: string[] = [];
      for (const [id, f] of rows as Array<[string, string[]]>) {
        ids.push(id);
        const kind = f[f.indexOf('kind') + 1] ?? 'hit';
        const data = f[f.indexOf('data') + 1] ?? '{}';
        if (kind === 'audit') {
          audits.push(JSON.parse(data) as AuditEntry);
          continue;
        }
        if (kind === 'result') {
          results.push({ user, ...(JSON.parse(data) as { req: string; outcome: unknown }) });
          continue;
        }
        feed.push({ kind, data, user });
        if (kind === 'change') changes.push(JSON.parse(data) as LevelChange);
        else if (kind === 'hit') hits.push({ user, hit: JSON.parse(data) as BehaviorHit });
      }
      if (ids.length) done.push({ user, ids });
    });
    if (done.length === 0) {
      const unmark = pipeline(this.redis);
      this.unmark(unmark, list);
      await unmark.exec();
      return [];
    }
    await this.sink(changes, hits);
    const write = pipeline(this.redis);
    for (const f of feed) write.xadd(this.riskEventsStream, 'MAXLEN', '~', this.maxlen, '*', 'kind', f.kind, 'user', f.user, 'data', f.data);
    if (this.auditStream) {
      for (const c of changes) {
        if (c.initiatingEntity !== 'admin') write.xadd(this.auditStream, 'MAXLEN', '~', this.maxlen, '*', ...AuditLog.fields(levelChangedAudit(c)));
      }
      // Entries a commit made (an admin's reset): written to the audit log from here, as the commit's slot holds no audit stream.
      for (const a of audits) write.xadd(this.auditStream, 'MAXLEN', '~', this.maxlen, '*', ...AuditLog.fields(a));
    }
    for (const d of done) write.xdel(this.keys.userOutbox(d.user), ...d.ids);
    this.unmark(write, list);
    const wres = (await write.exec()) ?? [];
    for (const [err] of wres) if (err) throw err;
    if (results.length) {
      // Reset outcomes for their requesters, once the resets' audit entries are written.
      const answer = pipeline(this.redis);
      for (const r of results)
        answer.set(this.keys.controlResult(this.keys.partitionOf(r.user), r.req), JSON.stringify(r.outcome), 'PX', CONTROL_RESULT_TTL_MS);
      for (const [err] of (await answer.exec()) ?? []) if (err) throw err;
    }
    return changes;
  }

  /** Queues the removal of users' pending marks (each in its partition's set). */
  private unmark(p: ChainableCommander, users: string[]): void {
    for (const [part, list] of byPartition(users, (u) => this.keys.partitionOf(u))) p.zrem(this.keys.outboxPending(part), ...list);
  }

  /**
   * Relays the users marked pending (recovery after a crash or a failed relay; run at start and
   * periodically): in the partitions `owns` says this worker owns, every mark; in the others only
   * marks older than `staleMs`. A partition's owner relays its outboxes right after each commit:
   * relaying them from another worker at the same time would read the same entries before either
   * deleted them, and repeat their feed and audit entries.
   */
  async relayPending(opts: { owns?: (partition: number) => boolean; staleMs?: number; limit?: number; now?: number } = {}): Promise<number> {
    const { owns = () => false, staleMs = STALE_PENDING_MS, limit = 500, now = Date.now() } = opts;
    const read = pipeline(this.redis);
    for (const p of this.keys.partitionList) {
      if (owns(p)) read.zrange(this.keys.outboxPending(p), 0, limit - 1);
      else read.zrangebyscore(this.keys.outboxPending(p), '-inf', now - staleMs, 'LIMIT', 0, limit);
    }
    const users: string[] = [];
    for (const [err, found] of (await read.exec()) ?? []) {
      if (err) throw err;
      users.push(...(found as string[]));
    }
    if (users.length) await this.relay(users);
    return users.length;
  }

  /** Marks every user with a non-empty outbox as pending (start-up scan; covers a crash between marks). */
  async recover(): Promise<void> {
    for await (const found of scanKeys(this.redis, this.keys.userOutboxPattern)) {
      const users = found.map((k) => this.keys.userOfOutbox(k)).filter((u): u is string => !!u);
      const mark = pipeline(this.redis);
      for (const [p, list] of byPartition(users, (u) => this.keys.partitionOf(u)))
        mark.zadd(this.keys.outboxPending(p), ...list.flatMap((u) => [Date.now(), u]));
      await mark.exec();
    }
  }
}

/** Parses a risk event (hit or change) from a stream entry's fields. */
export function parseRiskEvent(id: string, f: string[]): { id: string; kind: string; data: BehaviorHit | LevelChange } {
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
  return { id, kind: m.kind ?? 'hit', data: JSON.parse(m.data ?? '{}') as BehaviorHit | LevelChange };
}
