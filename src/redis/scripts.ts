import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainableCommander, Cluster } from 'ioredis';
import type { RedisClient } from './client.js';
import { RiskstreamError } from '../errors.js';

/**
 * The Lua scripts, one file each in `src/redis/scripts/<name>-<numKeys>.lua` (`-n`: a variable
 * number of keys, passed first by the caller, as EVALSHA's numkeys; a KEYS/ARGV header
 * says what they take and return), loaded by this one typed loader: each is defined once per
 * connection (ioredis `defineCommand`: EVALSHA, EVAL on NOSCRIPT; pipelines load what is missing).
 * The build copies the .lua files beside the compiled loader (`dist/src/redis/scripts/`).
 */

/** Each script: its file (`<name>-<numKeys>`), its arguments (KEYS first, then ARGV) and its reply. */
interface Signatures {
  listBridge: { file: 'list-bridge-2'; args: [list: string, stream: string, max: number, maxBytes?: number]; reply: [number, number] };
  ssfStreamCreate: { file: 'ssf-stream-create-1'; args: [streams: string, owner: string, maxPerOwner: string, id: string, json: string]; reply: number };
  ssfRateTake: { file: 'ssf-rate-take-1'; args: [bucket: string, rate: string, burst: string, warnMs: string]; reply: [number, number, number] };
  /** The set, the position (score: '' from the top; member), most rows: member, score, … after it in reverse order. */
  zrevAfter: { file: 'zrev-after-1'; args: [set: string, score: string, member: string, count: string]; reply: string[] };
  /** The hash, the call's marker (src/redis/hash-cas.ts), the field, the value expected ('' absent), the new one ('' delete), the marker's lifetime (ms). */
  hashCas: { file: 'hash-cas-2'; args: [hash: string, marker: string, field: string, expected: string, next: string, markerMs: string]; reply: number };
  deliveryRaise: { file: 'delivery-raise-1'; args: [hash: string, field: string, value: string]; reply: number };
  lockRelease: { file: 'lock-release-1'; args: [lock: string, token: string]; reply: number };
  /** A stream's in-flight set, now (ms), the entry's life (ms), its member; the set's life (ms). */
  ssfInflightAdd: { file: 'ssf-inflight-add-1'; args: [set: string, now: string, lifeMs: string, member: string]; reply: number };
  deliveryGate: { file: 'delivery-gate-1'; args: [throttle: string, rate: string, held: string, graceMs: string]; reply: [number, string] };
  deliveryPause: { file: 'delivery-pause-1'; args: [throttle: string, ms: string]; reply: number };
  heldPush: { file: 'held-push-1'; args: [list: string, max: number, ...items: string[]]; reply: number };
  heldDrop: { file: 'held-drop-1'; args: [list: string, ...items: string[]]; reply: number };
  /** Variable keys: numkeys (2 per IP), then each IP's failures and successes keys, then the packed batch and (optional) now, ms. */
  ipLogins: { file: 'ip-logins-n'; args: [numKeys: number, ...keysThenPacked: string[]]; reply: string[][] };
  /** Variable keys (src/redis/commit-keys.ts `commitArgs`): numkeys, the lease, the position (on a cluster every key touched), then its ARGV. */
  engineCommit: {
    file: 'engine-commit-n';
    args: [numKeys: number, ...keysThenArgs: Array<string | Buffer>];
    reply: -1 | [number, unknown[], string[][]];
  };
  routerRead: {
    file: 'router-read-2';
    args: [fence: string, stream: string, token: string, group: string, consumer: string, count: string, id: string, expected: string];
    reply: -1 | -2 | [[string, string], Array<[string, string[] | null]>, string];
  };
  /** The stream's mark, the step's newest ms, its nonce: the mark before the step ('-1': none). */
  routedMark: { file: 'routed-mark-1'; args: [mark: string, top: string, nonce: string]; reply: string };
  outboxDone: { file: 'outbox-done-2'; args: [pending: string, outbox: string, user: string, ...ids: string[]]; reply: number };
  sessionRevoke: {
    file: 'session-revoke-6';
    args: [
      session: string,
      byLogin: string,
      byExpiry: string,
      userSessions: string,
      tombstone: string,
      notices: string,
      sid: string,
      tombstoneJson: string,
      px: string,
      noticeId: string,
      noticeJson: string,
    ];
    /** 1: this call's own revocation, made already (a resend). */
    reply: string | null | 1;
  };
  sessionPrune: {
    file: 'session-prune-2';
    args: [index: string, byExpiry: string, now: string, mode: 'expired' | 'gone', sessionPrefix: string, user: string, ...ids: string[]];
    reply: number;
  };
  revokeNoticesClaim: { file: 'revoke-notices-claim-1'; args: [notices: string, staleMs: string, max: string]; reply: string[] };
  routerFence: { file: 'router-fence-1'; args: [fence: string, token: string]; reply: number | string };
  leaseAcquire: { file: 'lease-acquire-2'; args: [lease: string, epoch: string, workerId: string, ttlMs: number, floor?: number]; reply: [number, string] };
  leaseRenew: { file: 'lease-renew-1'; args: [lease: string, value: string, ttlMs: number]; reply: 1 | string };
  leaseRelease: { file: 'lease-release-1'; args: [lease: string, value: string]; reply: number };
  /** The partition's lease, position hash and stream; the owner's token, `start` / `fail` / `try` / `untry` / `clear`, the limit, the entries an owner may hold uncommitted, the last entry read at a failure (src/engine/poison-guard.ts). */
  engineAttempt: {
    file: 'engine-attempt-3';
    args: [
      lease: string,
      pos: string,
      stream: string,
      token: string,
      kind: 'start' | 'fail' | 'try' | 'untry' | 'clear',
      limit: string,
      span: string,
      reach: string,
    ];
    reply: -1 | [string, number, string];
  };
  engineHeartbeat: { file: 'engine-heartbeat-1'; args: [members: string, workerId: string, forgetMs: number]; reply: (number | string)[] };
  workerIdClaim: { file: 'worker-id-claim-1'; args: [id: string, expected: string, pid: string, ttlMs: number]; reply: [number, string] };
  deadLetter: { file: 'dead-letter-2'; args: [stream: string, marker: string, ttlMs: string, maxlen: string, ...fields: string[]]; reply: string | null };
  /** The dead-letter stream, the chunk's marker, its lifetime (ms), MAXLEN ('' = none), then per dead letter: count of field values, the values. */
  deadLetterChunk: {
    file: 'dead-letter-chunk-2';
    args: [stream: string, marker: string, ttlMs: string, maxlen: string, ...entries: string[]];
    reply: string[] | null;
  };
  /** Enabled ids count, per enabled id: id, its counting parameters' digest; then the configured ids that are off. */
  behaviorsEpoch: { file: 'behaviors-epoch-1'; args: [epochs: string, enabledCount: number, ...idsAndDigests: string[]]; reply: [number, number] };
  /** The counter, the value its reader has seen (below it: put back above it). */
  /** A hash, the run_id that produced the cursor, the cursor, COUNT: this node's run_id, the cursor used ('0' on another node), the next cursor, field, value, … (Buffers: {@link queueScriptBuffer}). */
  idleScan: { file: 'idle-scan-1'; args: [hash: string, node: string, cursor: string, count: string]; reply: [Buffer, Buffer, Buffer, Buffer[]] };
  counterRaise: { file: 'counter-raise-1'; args: [counter: string, known: number, margin: number]; reply: number };
  /** The counter known, the margin, the enabled ids count, then per enabled id: id, its known on-epoch, its counting parameters' digest; then the ids that are off. */
  behaviorsRestore: {
    file: 'behaviors-restore-1';
    args: [epochs: string, known: number, margin: number, enabledCount: number, ...idsAndEpochs: Array<string | number>];
    reply: [number, number];
  };
  /** The chunk's marker, the two input streams, the marker's lifetime (ms), then per record: stream (1 login, 2 activity), count of field values, the values. */
  ingestAppend: {
    file: 'ingest-append-3';
    args: [marker: string, login: string, activity: string, ttlMs: string, ...records: string[]];
    reply: string[] | null;
  };
}

/** A script's name. */
export type ScriptName = keyof Signatures;

/** The scripts on a connection: each call one EVALSHA, resolving to the script's reply. */
export type Scripts = { [K in ScriptName]: (...args: Signatures[K]['args']) => Promise<Signatures[K]['reply']> };

const FILES: { [K in ScriptName]: Signatures[K]['file'] } = {
  listBridge: 'list-bridge-2',
  ssfStreamCreate: 'ssf-stream-create-1',
  ssfRateTake: 'ssf-rate-take-1',
  zrevAfter: 'zrev-after-1',
  hashCas: 'hash-cas-2',
  deliveryRaise: 'delivery-raise-1',
  lockRelease: 'lock-release-1',
  ssfInflightAdd: 'ssf-inflight-add-1',
  deliveryGate: 'delivery-gate-1',
  deliveryPause: 'delivery-pause-1',
  heldPush: 'held-push-1',
  heldDrop: 'held-drop-1',
  ipLogins: 'ip-logins-n',
  engineCommit: 'engine-commit-n',
  routerRead: 'router-read-2',
  routedMark: 'routed-mark-1',
  outboxDone: 'outbox-done-2',
  sessionRevoke: 'session-revoke-6',
  sessionPrune: 'session-prune-2',
  revokeNoticesClaim: 'revoke-notices-claim-1',
  routerFence: 'router-fence-1',
  leaseAcquire: 'lease-acquire-2',
  leaseRenew: 'lease-renew-1',
  leaseRelease: 'lease-release-1',
  engineAttempt: 'engine-attempt-3',
  engineHeartbeat: 'engine-heartbeat-1',
  workerIdClaim: 'worker-id-claim-1',
  deadLetter: 'dead-letter-2',
  deadLetterChunk: 'dead-letter-chunk-2',
  ingestAppend: 'ingest-append-3',
  behaviorsEpoch: 'behaviors-epoch-1',
  behaviorsRestore: 'behaviors-restore-1',
  counterRaise: 'counter-raise-1',
  idleScan: 'idle-scan-1',
};
const NAMES = Object.keys(FILES) as ScriptName[];

/** The directory of the .lua files: beside this module, in src/ (tsx) as in dist/ (copied by the build). */
export const SCRIPTS_DIR = join(import.meta.dirname, 'scripts');

/** The command name a script is defined under (ioredis commands share one namespace). */
const command = (name: ScriptName): string => `rs_${name}`;

let sources: Map<ScriptName, { lua: string; numberOfKeys: number | undefined }> | undefined;

/** Reads every script once (per process). */
function load(): Map<ScriptName, { lua: string; numberOfKeys: number | undefined }> {
  if (sources) return sources;
  const out = new Map<ScriptName, { lua: string; numberOfKeys: number | undefined }>();
  for (const name of NAMES) {
    const file = FILES[name];
    const n = /-(\d+|n)$/.exec(file)?.[1];
    const numberOfKeys = n === 'n' ? undefined : Number(n);
    let lua: string;
    try {
      lua = readFileSync(join(SCRIPTS_DIR, `${file}.lua`), 'utf8');
    } catch (err) {
      throw new RiskstreamError('INTERNAL', `Lua script ${file}.lua not found in ${SCRIPTS_DIR} (a build without its scripts?)`, undefined, { cause: err });
    }
    out.set(name, { lua, numberOfKeys });
  }
  return (sources = out);
}

const defined = new WeakSet<RedisClient | Cluster>();
const bound = new WeakMap<RedisClient | Cluster, Scripts>();

/** Defines every script on `redis` (once per connection). Pipelines made afterwards carry them too. */
export function defineScripts(redis: RedisClient | Cluster): void {
  if (defined.has(redis)) return;
  for (const [name, s] of load())
    redis.defineCommand(command(name), s.numberOfKeys === undefined ? { lua: s.lua } : { lua: s.lua, numberOfKeys: s.numberOfKeys });
  defined.add(redis);
}

type Callable = Record<string, ((...a: unknown[]) => unknown) | undefined>;

function commandOf(target: object, name: ScriptName, what: string, suffix = ''): (...a: unknown[]) => unknown {
  const f = (target as Callable)[command(name) + suffix];
  if (typeof f !== 'function') throw new RiskstreamError('INTERNAL', `${what} was made before defineScripts() ran on its connection`);
  return f;
}

/** The scripts on a connection (defines them on it first). */
export function scriptsOn(redis: RedisClient | Cluster): Scripts {
  const known = bound.get(redis);
  if (known) return known;
  defineScripts(redis);
  const out: Record<string, (...a: unknown[]) => unknown> = {};
  for (const name of NAMES) {
    const f = commandOf(redis, name, 'the connection');
    out[name] = (...a: unknown[]) => f.apply(redis, a);
  }
  bound.set(redis, out as Scripts);
  return out as Scripts;
}

/** Queues script `name` on a pipeline or MULTI made from a connection after {@link defineScripts} ran on it. */
export function queueScript<K extends ScriptName>(p: ChainableCommander, name: K, ...args: Signatures[K]['args']): ChainableCommander {
  return commandOf(p, name, 'this pipeline').apply(p, args) as ChainableCommander;
}

/** {@link queueScript}, its reply's strings as Buffers (binary values: states). */
export function queueScriptBuffer<K extends ScriptName>(p: ChainableCommander, name: K, ...args: Signatures[K]['args']): ChainableCommander {
  return commandOf(p, name, 'this pipeline', 'Buffer').apply(p, args) as ChainableCommander;
}
