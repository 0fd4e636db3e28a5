import { tag } from './hash-tag.js';

/**
 * The keys of a partition commit (src/redis/scripts/engine-commit-n.lua), declared to Redis as the
 * script's KEYS on a Redis Cluster: while a slot migration has moved some of the partition's keys
 * (or not yet), Redis then refuses the whole script up front (TRYAGAIN / ASK, nothing run) rather
 * than aborting it after some of its writes with "non local key". On one node only the lease and
 * the position are declared (the script's cost there unchanged).
 */

/** Adds the keys the commit script's commands name (its procedures' and a plain command's key) to `into`. */
export function commandKeys(ops: ReadonlyArray<readonly string[]>, into: Set<string>): Set<string> {
  for (const op of ops) {
    switch (op[0]) {
      case 'SPUT': // session tombstone json px login_at user [by-login id]
        add(into, op[1], op[2], op[7]);
        break;
      case 'SEND': // session tombstone json login_at user by-login by-expiry user-sessions id px
        add(into, op[1], op[2], op[6], op[7], op[8]);
        break;
      case 'SOFF': // session by-login by-expiry user-sessions id user
        add(into, op[1], op[2], op[3], op[4]);
        break;
      case 'SUSER': {
        // user-sessions user-devices session-prefix by-login by-expiry user now max ttl ttl n (expires_at id)… (device seen json)…
        add(into, op[1], op[2], op[4], op[5]);
        const n = Number(op[11]);
        // A sign-out's place (`-`, id): the script reads that session's key (a trim's deletions it checks itself).
        for (let i = 12; i < 12 + n; i += 2) if (op[i] === '-') into.add(op[3]! + tag(op[i + 1]!));
        break;
      }
      default: // SIDX and every plain command: one key, the first argument
        add(into, op[1]);
    }
  }
  return into;
}

function add(into: Set<string>, ...keys: Array<string | undefined>): void {
  for (const k of keys) if (k) into.add(k);
}

/** The commit script's arguments after KEYS[1] and KEYS[2] (its ARGV[1…7]; see the script's header). */
export type CommitArgv = [token: string, ops: Buffer, pos: string, stream: string, commitId?: string, trimBelow?: string, expected?: string];

/**
 * The commit script's arguments (numkeys first): the lease and position as KEYS[1] and KEYS[2];
 * with `declared` (on a cluster), those keys and the stream it trims after them and ARGV[8] '1'.
 */
export function commitArgs(lease: string, pos: string, argv: CommitArgv, declared?: Set<string>): [number, ...Array<string | Buffer>] {
  const rest = argv.map((a) => a ?? '');
  if (!declared) return [2, lease, pos, ...rest];
  if (argv[3]) declared.add(argv[3]);
  declared.delete(lease);
  declared.delete(pos);
  while (rest.length < 7) rest.push('');
  return [2 + declared.size, lease, pos, ...declared, ...rest, '1'];
}
