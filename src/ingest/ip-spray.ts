/**
 * The I/O edge of password_spray. Before a batch is scored, every login carrying an `ip` (not in
 * `allow_networks`) is added to that IP's sorted set (Keys.ipLogins: its own key and hash tag,
 * bounded and expiring), and the set is read back in the same script call. Then, purely
 * (src/detect/ip-logins.ts), one login at a time in stream order, each successful login gets the
 * IP's failures that came before it attached (the detector's {@link IP_FAILURES}); an earlier
 * success that a later failure makes a victim becomes a `password_spray.victim` event of that
 * user, under that failure's ref (acked, retried and dead-lettered with it), appended after the
 * batch's own events (the router gives it the key right after the failure's). The outcome does not depend on how the stream was cut into batches. So the IP's state is its own key,
 * and the per-user flag is emitted into the user's own path, scored and committed like any of
 * the user's events. Writes are idempotent (a replayed login is the same member). The sets are
 * named by the tallies' generation (src/ingest/spray-generation.ts): turned on again, the behavior
 * starts afresh.
 */
import { attach } from '../attachment.js';
import type { Cluster } from 'ioredis';
import { isCluster, pipeline, slotOf, type RedisClient } from '../redis/client.js';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import { ipLoginMember, judgeIpBatch, longestWindow, parseIpLogin, type IpLogin } from '../detect/ip-logins.js';
import { ipInNetworks } from '../detect/allow-list.js';
import { IP_FAILURES, SPRAY_VICTIM_TYPE, type PasswordSprayParams } from '../detect/password-spray.js';
import { RiskstreamError } from '../errors.js';
import { defineScripts, queueScript, scriptsOn } from '../redis/scripts.js';
import type { Keys } from '../keys.js';
import { acceptedCredential, isCredentialLogin, isFailedLogin, isSuccessfulLogin } from '../login.js';
import { sprayGeneration } from './spray-generation.js';
import { canonicalIp } from '../net/address-class.js';
import type { StreamEvent } from '../types.js';

/** Most logins remembered per IP per set: the newest, those stamped after now holding at most half (src/detect/bounded-keep.ts). */
export const MAX_IP_LOGINS = 2000;

/** What the edge needs. */
export interface IpSprayOptions {
  behaviors: () => BehaviorConfig[];
  /** state.allowed_lateness (ms): how long an IP's logins are kept beyond the longest window. */
  allowedLateness: () => number;
  now?: () => number;
  /** A background read of the tallies' generation failed (the next batch reads it again). */
  onError?: (err: unknown) => void;
}

interface IpBatch {
  events: Array<{ se: StreamEvent; login: IpLogin }>;
}

/** Builds the enrichment step: `(events) => Promise<void>`, mutating and appending to `events`. */
export function ipSprayEnricher(redis: RedisClient | Cluster, keys: Keys, opts: IpSprayOptions): (events: StreamEvent[]) => Promise<void> {
  const generation = sprayGeneration(redis, keys, opts.onError ? { onError: opts.onError } : {});
  return async (events) => {
    const behaviors = opts.behaviors();
    const params = behaviors.filter((b) => b.enabled && b.kind === 'password_spray').map((b) => b.params as unknown as PasswordSprayParams);
    if (!params.length) return;
    const window = longestWindow(params);
    const keep = window + Math.max(0, opts.allowedLateness());
    const now = (opts.now ?? Date.now)();
    const allowed = (ip: string): boolean => params.every((p) => ipInNetworks(ip, p.allow_networks));
    const byIp = new Map<string, IpBatch>();
    for (const se of events) {
      const e = se.event;
      // Logins that present credentials: a session refresh is neither a guess nor its success.
      if (!isCredentialLogin(e) || typeof e.ip !== 'string' || e.ip === '' || !Number.isFinite(e.time) || allowed(e.ip)) continue;
      // Only a failed login counts against the IP; an accepted password (interrupted — MFA required —,
      // blocked by policy) is a success, as the spray's verdict needs it.
      const accepted = acceptedCredential(e);
      const kind = accepted || isSuccessfulLogin(e) ? 's' : isFailedLogin(e) ? 'f' : undefined;
      if (!kind) continue;
      const login: IpLogin = { kind, time: e.time, user: e.user, id: e.id ?? `${se.ref.stream}/${se.ref.id}` };
      if (accepted) login.accepted = accepted;
      // One key per address, however it is spelled (2001:DB8::9, 2001:db8:0::9, ::ffff:198.51.100.9).
      const ip = canonicalIp(e.ip);
      const b = byIp.get(ip) ?? { events: [] };
      b.events.push({ se, login });
      byIp.set(ip, b);
    }
    const groups = [...byIp];
    if (!groups.length) return;
    const gen = await generation.current(behaviors);
    const replies = await readBack(redis, keys, groups, { window, keep, now, gen });
    // Victims by the failure that revealed them, in stream order: the router keys each right after its
    // failure (the order a run with other batches would give).
    const after = new Map<StreamEvent, StreamEvent[]>();
    groups.forEach(([ip, b], g) => {
      const batchIds = new Set(b.events.map((x) => x.login.id));
      const stored: IpLogin[] = [];
      const flat = replies[g]!;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const l = parseIpLogin(flat[i]!, Number(flat[i + 1]));
        if (l && !batchIds.has(l.id)) stored.push(l);
      }
      const judged = judgeIpBatch(
        stored,
        b.events.map((x) => x.login),
        params,
      );
      // In place: the router's events are its own (decoded for this step), and the attachment
      // is symbol-keyed (never encoded as a field, never from input); a copy per success was garbage.
      for (const [i, failures] of judged.attached) attach(b.events[i]!.se.event, IP_FAILURES, failures);
      for (const v of judged.victims) {
        const trigger = b.events[v.after]!.se;
        const list = after.get(trigger) ?? [];
        list.push({
          ref: trigger.ref,
          deliveries: trigger.deliveries,
          // An accepted password's victim carries how its sign-in ended (interrupted, blocked) as its outcome.
          event: {
            type: SPRAY_VICTIM_TYPE,
            id: v.victim.id,
            user: v.victim.user,
            time: v.victim.time,
            ip,
            outcome: v.victim.accepted ?? 'success',
            [IP_FAILURES]: v.failures,
          },
        });
        after.set(trigger, list);
      }
    });
    if (!after.size) return;
    // Appended: the batch's own events keep their places, which the router reads them back by.
    const batch = events.length;
    for (let i = 0; i < batch; i++) events.push(...(after.get(events[i]!) ?? []));
  };
}

/**
 * Adds each IP's batch logins to its sets, trims them (age; count by the bound policy at `now`:
 * src/detect/bounded-keep.ts), refreshes their TTL and reads
 * back the score range the batch can need (src/redis/scripts/ip-logins-n.lua, atomic): one script
 * call for the whole batch on one Redis node; on a Redis Cluster one per slot (a script's keys must
 * share a slot; each IP has its own hash tag), all in one pipeline. Each IP's read follows its own
 * writes, so of two workers adding failures of one IP at once the later one sees both (a victim
 * revealed twice is flagged once, by the detector's window).
 */
async function readBack(
  redis: RedisClient | Cluster,
  keys: Keys,
  groups: Array<[string, IpBatch]>,
  o: { window: number; keep: number; now: number; gen: number },
): Promise<string[][]> {
  const args = (chunk: number[]): [number, ...string[]] => {
    const keyArgs: string[] = [];
    const packed: string[][] = [];
    for (const g of chunk) {
      const [ip, b] = groups[g]!;
      keyArgs.push(keys.ipLogins(ip, o.gen), keys.ipSuccesses(ip, o.gen));
      packed.push(packIp(b, o));
    }
    return [keyArgs.length, ...keyArgs, JSON.stringify(packed), String(o.now)];
  };
  if (!isCluster(redis)) {
    // One node: one script call, without a pipeline (an ioredis pipeline costs tens of µs to make).
    const reply = await scriptsOn(redis).ipLogins(...args(groups.map((_, g) => g)));
    return groups.map((_, g) => reply[g] ?? []);
  }
  defineScripts(redis);
  const chunks = bySlot(keys, groups);
  const p = pipeline(redis);
  for (const chunk of chunks) queueScript(p, 'ipLogins', ...args(chunk));
  const res = (await p.exec()) ?? [];
  const out: string[][] = new Array<string[]>(groups.length);
  chunks.forEach((chunk, c) => {
    const [err, reply] = res[c] ?? [new RiskstreamError('INTERNAL', 'ip-spray: no reply')];
    if (err) throw err;
    chunk.forEach((g, i) => (out[g] = (reply as string[][])[i] ?? []));
  });
  return out;
}

/** Group indexes by the slot of their IP's keys (Redis Cluster). */
function bySlot(keys: Keys, groups: Array<[string, IpBatch]>): number[][] {
  const slots = new Map<number, number[]>();
  groups.forEach(([ip], g) => {
    const slot = slotOf(keys.ipLogins(ip));
    const l = slots.get(slot);
    if (l) l.push(g);
    else slots.set(slot, [g]);
  });
  return [...slots.values()];
}

/** One IP's part of the script's argument (see ip-logins-n.lua), every value a string. */
function packIp(b: IpBatch, o: { window: number; keep: number; now: number }): string[] {
  let first = Infinity;
  let newest = -Infinity;
  let needSuccesses = '0';
  for (const x of b.events) {
    if (x.login.time < first) first = x.login.time;
    if (x.login.time > newest) newest = x.login.time;
    // Successes are read back only when the batch holds a failure (it may reveal earlier victims).
    if (x.login.kind === 'f') needSuccesses = '1';
  }
  // A success needs the failures up to `window` before it; a batch failure can reveal
  // successes up to `window` after it (whose failures reach back as far).
  // The trim counts from the batch's oldest login: one far later must not drop what an earlier
  // login of the same batch needs (the batch judges as its logins one at a time would).
  const out = [
    String(Math.min(o.now, first) - o.keep),
    String(MAX_IP_LOGINS),
    String(Math.max(o.keep, 1000)),
    String(first - o.window),
    String(newest + o.window),
    needSuccesses,
  ];
  for (const { login } of b.events) out.push(String(login.time), ipLoginMember(login));
  return out;
}
