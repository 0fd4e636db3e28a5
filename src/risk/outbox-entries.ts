/**
 * The entries of a user's outbox, as a partition's commit writes them (src/engine/commit.ts), read
 * back by the outbox relay: each entry's `kind` says where its JSON `data` goes — `hit` and
 * `change` to the risk-events feed (and the relay's sink), `revoke` to the sink only (a session
 * login a response policy revokes), `audit` to the audit log, `result` to a reset's requester.
 */
import { createHash } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-log.js';
import type { BehaviorHit, LevelChange } from '../types.js';
import type { LateLogin } from '../sessions/policy-mark.js';

/** A relayed behavior hit and its user. */
export interface UserHit {
  user: string;
  hit: BehaviorHit;
}

/** A session login to revoke on its own (response policies) and its user. */
export interface UserLateLogin {
  user: string;
  late: LateLogin;
}

/** An entry of the risk-events feed: its kind, its data as written (JSON), its user, and the change when it is one. */
export interface FeedEntry {
  kind: string;
  data: string;
  user: string;
  change?: LevelChange;
}

/** What one relay run read from the outboxes, sorted by where it goes. */
export interface OutboxRead {
  /** Level changes (also in `feed`). */
  changes: LevelChange[];
  /** Behavior hits (also in `feed`). */
  hits: UserHit[];
  /** Session logins to revoke on their own: not risk events, so not in `feed`. */
  late: UserLateLogin[];
  /** The risk-events feed's entries: every entry that is none of `revoke`, `audit`, `result`. */
  feed: FeedEntry[];
  /** Audit entries a commit made (an admin's reset): the commit's slot holds no audit stream. */
  audits: AuditEntry[];
  /** Reset outcomes for their requesters. */
  results: Array<{ user: string; req: string; outcome: unknown }>;
  /**
   * SHA-256 (base64url) of the entries' users, ids, kinds and data: what the run's writes onward
   * are known by (an emptied outbox is deleted, and a new one may number an entry as an old one was).
   */
  digest: string;
}

/** Sorts the entries read from each user's outbox (user → [id, fields]) by where they go. Throws on data that is not JSON. */
export function readOutboxEntries(rows: Map<string, Array<[string, string[]]>>): OutboxRead {
  const out: OutboxRead = { changes: [], hits: [], late: [], feed: [], audits: [], results: [], digest: '' };
  const run = createHash('sha256');
  for (const [user, entries] of rows) {
    for (const [id, f] of entries) {
      const kind = f[f.indexOf('kind') + 1] ?? 'hit';
      const data = f[f.indexOf('data') + 1] ?? '{}';
      run.update(`${user}\n${id}\n${kind}\n${data}\n`);
      if (kind === 'audit') out.audits.push(JSON.parse(data) as AuditEntry);
      else if (kind === 'result') out.results.push({ user, ...(JSON.parse(data) as { req: string; outcome: unknown }) });
      else if (kind === 'revoke')
        out.late.push({ user, late: JSON.parse(data) as LateLogin }); // the policy's, not a risk event
      else {
        const change = kind === 'change' ? (JSON.parse(data) as LevelChange) : undefined;
        out.feed.push({ kind, data, user, ...(change ? { change } : {}) });
        if (change) out.changes.push(change);
        else if (kind === 'hit') out.hits.push({ user, hit: JSON.parse(data) as BehaviorHit });
      }
    }
  }
  out.digest = run.digest('base64url');
  return out;
}
