/**
 * The index commands of a partition's commit (src/engine/commit.ts): a user's entries in the level,
 * expiry and idle indexes when their value changed, the deletions of forgotten users, the idle
 * index's backfill chunks and the idle sweep's fixes of it.
 */
import type { MsgWriter } from '../redis/msgpack-writer.js';
import { idleScore } from '../risk/retention.js';
import { markOnly, nextExpiry, type UserState } from '../risk/state.js';
import { levelScore } from '../risk/store.js';
import { BACKFILL_FIELD, formatProgress, type IdleFill } from './idle-backfill.js';

/** The value a state puts in the indexes (level score, next expiry; idle score): unchanged ones are not rewritten. */
export function indexSig(state: UserState): string {
  return `${levelScore(state)}|${nextExpiry(state) ?? ''}|${idleScore(state) ?? ''}`;
}

/** Writes one command; 1 (counted). */
export function op(w: MsgWriter, args: readonly string[]): number {
  w.arrayHeader(args.length);
  for (const a of args) w.str(a);
  return 1;
}

/** The partition's index keys, with the signatures last committed ({@link indexSig}) and those written. */
export interface IndexKeys {
  levelKey: string;
  expiryKey: string;
  idleKey: string;
  indexed: (user: string) => string | undefined;
  sigs: Map<string, string>;
}

/**
 * Writes a user's index entries whose value changed: the level and expiry entries together, the
 * idle entry on its own (it moves at most once an hour: src/risk/retention.ts); how many commands
 * (0 to 3).
 */
export function indexOps(w: MsgWriter, ix: IndexKeys, user: string, state: UserState): number {
  if (markOnly(state)) return 0; // a revocation mark only: no level to list, nothing to expire
  const score = levelScore(state);
  const exp = nextExpiry(state);
  const idle = idleScore(state);
  const head = `${score}|${exp ?? ''}|`;
  const sig = `${head}${idle ?? ''}`; // indexSig(state)
  ix.sigs.set(user, sig);
  const was = ix.indexed(user);
  if (was === sig) return 0;
  let n = 0;
  if (was === undefined || !was.startsWith(head) || was.indexOf('|', head.length) >= 0) {
    op(w, ['ZADD', ix.levelKey, String(score), user]);
    op(w, exp === null ? ['ZREM', ix.expiryKey, user] : ['ZADD', ix.expiryKey, String(exp), user]);
    n = 2;
  }
  if (was === undefined || was.slice(was.lastIndexOf('|') + 1) !== (idle === null ? '' : String(idle)))
    n += op(w, idle === null ? ['ZREM', ix.idleKey, user] : ['ZADD', ix.idleKey, String(idle), user]);
  return n;
}

/**
 * Writes the deletions of the delta's forgotten users and their risk events (`events`: a user's
 * stream) — not of those given a state meanwhile (the item applied after decides: `prune`) — and
 * the risk events of its pruned users (src/engine/commit.ts `prune`), before the delta's own
 * risk events; how many commands.
 */
export function forgetOps(
  w: MsgWriter,
  ix: IndexKeys,
  stateKey: string,
  d: { forget?: ReadonlySet<string>; prune?: ReadonlyMap<string, number>; states: ReadonlyMap<string, UserState> },
  declared?: Set<string>,
  events?: (user: string) => string,
): number {
  let n = 0;
  for (const user of d.forget ?? []) {
    if (d.states.has(user)) continue;
    op(w, ['HDEL', stateKey, user]);
    op(w, ['ZREM', ix.levelKey, user]);
    op(w, ['ZREM', ix.expiryKey, user]);
    op(w, ['ZREM', ix.idleKey, user]);
    n += 4;
  }
  if (n) declared?.add(stateKey).add(ix.levelKey).add(ix.expiryKey).add(ix.idleKey);
  if (!events) return n;
  const del = (user: string): void => {
    n += op(w, ['DEL', events(user)]);
    declared?.add(events(user));
  };
  for (const user of d.forget ?? []) if (!d.states.has(user) && !d.prune?.has(user)) del(user);
  for (const user of d.prune?.keys() ?? []) del(user);
  return n;
}

/** Members (or score, member pairs) per command of a chunked write (the script unpacks each command onto Lua's stack). */
const CHUNK = 1000;

/** Writes `items` as commands `head… item…` of at most {@link CHUNK} items each (an item: `per` strings); how many commands. */
function chunked<T>(w: MsgWriter, head: readonly string[], items: readonly T[], per: 1 | 2, put: (item: T) => void): number {
  let n = 0;
  for (let i = 0; i < items.length; i += CHUNK) {
    const chunk = items.slice(i, i + CHUNK);
    w.arrayHeader(head.length + per * chunk.length);
    for (const a of head) w.str(a);
    for (const item of chunk) put(item);
    n++;
  }
  return n;
}

/**
 * Writes a backfill chunk (src/engine/idle-backfill.ts): its candidates listed unless listed
 * already (ZADD NX: a score a commit or the sweep wrote stays), then its progress in the
 * partition's position hash (`posKey`); how many commands.
 */
export function fillOps(w: MsgWriter, ix: IndexKeys, posKey: string, fill: IdleFill, declared?: Set<string>): number {
  const n = chunked(w, ['ZADD', ix.idleKey, 'NX'], fill.adds, 2, ([user, score]) => {
    w.str(String(score));
    w.str(user);
  });
  if (n) declared?.add(ix.idleKey);
  return n + op(w, ['HSET', posKey, BACKFILL_FIELD, formatProgress(fill.progress)]);
}

/**
 * Writes the idle sweep's fixes of the idle index (src/engine/forget.ts): users not idle yet moved
 * to their later score (ZADD GT: a later score written meanwhile stays), users no candidate any
 * more or kept (risk events, outbox) taken out; how many commands.
 */
export function fixOps(w: MsgWriter, ix: IndexKeys, fix: ReadonlyMap<string, number | null>, declared?: Set<string>): number {
  const later: Array<[string, number]> = [];
  const out: string[] = [];
  for (const [user, score] of fix) {
    if (score === null) out.push(user);
    else later.push([user, score]);
  }
  const n =
    chunked(w, ['ZADD', ix.idleKey, 'GT'], later, 2, ([user, score]) => {
      w.str(String(score));
      w.str(user);
    }) + chunked(w, ['ZREM', ix.idleKey], out, 1, (user) => w.str(user));
  if (n) declared?.add(ix.idleKey);
  return n;
}
