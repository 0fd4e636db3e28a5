import { byPartition, pipeline, scanKeys, type RedisClient } from '../redis/client.js';
import { AuditLog, type AuditEntry } from '../audit/audit-log.js';
import { CONTROL_RESULT_TTL_MS } from '../engine/commit.js';
import { randomUUID } from 'node:crypto';
import type { Keys } from '../keys.js';
import { streamOnceMarker } from '../stream-markers.js';
import { defineScripts, queueScript, scriptsOn } from '../redis/scripts.js';
import type { BehaviorHit, LevelChange } from '../types.js';
import { readOutboxEntries, type UserHit, type UserLateLogin } from './outbox-entries.js';

/** A relay's hold on its partitions' locks, renewed while it runs: a relay whose process died frees them this soon. */
const RELAY_LOCK_MS = 3_000;
/** Most entries of one outbox one relay reads (the rest stay marked, for the next run). */
const READ_MAX = 1000;
/**
 * How long a relay run's markers stay (ms): past the client's resend of the run's writes after a
 * reconnect (one marker per run and stream, not per entry: a key per risk event for an hour would
 * cost more memory than the events' users).
 */
const RELAYED_ONCE_MS = 600_000;

/** A pending mark older than this, in a partition another worker owns, is relayed by any worker (its owner's relay failed or it is gone). */
export const STALE_PENDING_MS = 60_000;

/**
 * Receives committed level changes (enqueues their SET deliveries), hits and late logins (response
 * policies), before they leave the outbox: a crash repeats the call, so it must be idempotent per
 * change / hit / late login.
 */
export type ChangeSink = (changes: LevelChange[], hits: UserHit[], late: UserLateLogin[]) => Promise<void>;

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
  ) {
    defineScripts(redis);
  }

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
    const parts = [...byPartition(list, (u) => this.keys.partitionOf(u))];
    const token = randomUUID();
    const read = pipeline(this.redis);
    // Each partition's lock, then its users' outboxes: one relay at a time per partition, across workers.
    for (const [p, users] of parts) {
      read.set(this.keys.outboxRelayLock(p), token, 'PX', RELAY_LOCK_MS, 'NX');
      for (const u of users) read.xrange(this.keys.userOutbox(u), '-', '+', 'COUNT', READ_MAX);
    }
    const locked: Array<[number, string[]]> = [];
    const rows = new Map<string, Array<[string, string[]]>>();
    try {
      const res = (await read.exec()) ?? [];
      let at = 0;
      for (const [p, users] of parts) {
        const [lockErr, ok] = res[at++] ?? [];
        // Held by another relay (another worker's, during a partition's move): its marks stay for the next run.
        if (!lockErr && ok === 'OK') locked.push([p, users]);
        for (const u of users) {
          const [, r] = res[at++] ?? [];
          if (!lockErr && ok === 'OK') rows.set(u, (r ?? []) as Array<[string, string[]]>);
        }
      }
      const failed = res.find(([err]) => err)?.[0];
      if (failed) throw failed;
      // The locks are short (a relay whose process died frees its partitions within RELAY_LOCK_MS):
      // renewed while this relay runs, however long it takes.
      const renew = setInterval(() => {
        for (const [p] of locked)
          void scriptsOn(this.redis)
            .leaseRenew(this.keys.outboxRelayLock(p), token, RELAY_LOCK_MS)
            .catch(() => undefined);
      }, RELAY_LOCK_MS / 3);
      renew.unref();
      try {
        return await this.pass(locked, rows, token);
      } finally {
        clearInterval(renew);
      }
    } catch (err) {
      // Releases the locks this relay holds (by its token: any it may have taken); marks and entries stay for the next run.
      const release = pipeline(this.redis);
      for (const [p] of parts) queueScript(release, 'lockRelease', this.keys.outboxRelayLock(p), token);
      await release.exec().catch(() => undefined);
      throw err;
    }
  }

  /** Passes the entries read on (sink, feed, audit), then deletes them, unmarks emptied outboxes and releases the locks. */
  private async pass(locked: Array<[number, string[]]>, rows: Map<string, Array<[string, string[]]>>, token: string): Promise<LevelChange[]> {
    const { changes, hits, late, feed, audits, results, digest } = readOutboxEntries(rows);
    if ([...rows.values()].some((r) => r.length)) await this.sink(changes, hits, late);
    const write = pipeline(this.redis);
    // Each stream's entries in one script with the run's marker: the client's resend of the writes
    // (their replies lost to a dropped connection, after they ran) appends nothing again.
    const once = `relay:${digest.slice(0, 32)}`;
    const append = (stream: string, rows: string[][]): void => {
      if (!rows.length) return;
      const marker = streamOnceMarker(stream, once);
      if (marker === undefined) for (const fields of rows) write.xadd(stream, 'MAXLEN', '~', this.maxlen, '*', ...fields);
      else
        queueScript(write, 'deadLetterChunk', stream, marker, String(RELAYED_ONCE_MS), String(this.maxlen), ...rows.flatMap((f) => [String(f.length), ...f]));
    };
    append(
      this.riskEventsStream,
      feed.map((f) => ['kind', f.kind, 'user', f.user, 'data', f.data]),
    );
    if (this.auditStream) {
      const levelChanged = feed.flatMap(({ change: c }) => (c && c.initiatingEntity !== 'admin' ? [AuditLog.fields(levelChangedAudit(c))] : []));
      // Entries a commit made (an admin's reset): written to the audit log from here, as the commit's slot holds no audit stream.
      append(this.auditStream, [...levelChanged, ...audits.map((a) => AuditLog.fields(a))]);
    }
    for (const [p, users] of locked) {
      for (const u of users) queueScript(write, 'outboxDone', this.keys.outboxPending(p), this.keys.userOutbox(u), u, ...(rows.get(u) ?? []).map(([id]) => id));
      queueScript(write, 'lockRelease', this.keys.outboxRelayLock(p), token);
    }
    for (const [err] of (await write.exec()) ?? []) if (err) throw err;
    if (results.length) {
      // Reset outcomes for their requesters, once the resets' audit entries are written.
      const answer = pipeline(this.redis);
      for (const r of results)
        answer.set(this.keys.controlResult(this.keys.partitionOf(r.user), r.req), JSON.stringify(r.outcome), 'PX', CONTROL_RESULT_TTL_MS);
      for (const [err] of (await answer.exec()) ?? []) if (err) throw err;
    }
    return changes;
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
