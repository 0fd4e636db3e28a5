/**
 * The index commands of a partition's commit (src/engine/commit.ts): a user's entries in the level,
 * expiry and idle indexes when their value changed, and the deletions of forgotten users.
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

/** Writes the deletions of the delta's forgotten users (not those given a state meanwhile); how many commands. */
export function forgetOps(
  w: MsgWriter,
  ix: IndexKeys,
  stateKey: string,
  d: { forget?: ReadonlySet<string>; states: ReadonlyMap<string, UserState> },
  declared?: Set<string>,
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
  return n;
}

/** Pairs per ZADD of a backfill chunk (the script unpacks each command onto Lua's stack). */
const FILL_PAIRS = 1000;

/**
 * Writes a backfill chunk (src/engine/idle-backfill.ts): its candidates listed unless listed
 * already (ZADD NX: a score a commit or the sweep wrote stays), then its progress in the
 * partition's position hash (`posKey`); how many commands.
 */
export function fillOps(w: MsgWriter, ix: IndexKeys, posKey: string, fill: IdleFill, declared?: Set<string>): number {
  let n = 0;
  for (let i = 0; i < fill.adds.length; i += FILL_PAIRS) {
    const chunk = fill.adds.slice(i, i + FILL_PAIRS);
    w.arrayHeader(3 + 2 * chunk.length);
    for (const a of ['ZADD', ix.idleKey, 'NX']) w.str(a);
    for (const [user, score] of chunk) {
      w.str(String(score));
      w.str(user);
    }
    n++;
  }
  if (n) declared?.add(ix.idleKey);
  return n + op(w, ['HSET', posKey, BACKFILL_FIELD, formatProgress(fill.progress)]);
}
