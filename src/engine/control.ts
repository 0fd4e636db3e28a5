import { charCount } from '../text.js';
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import { streamOnceMarker } from '../stream-markers.js';
import type { ControlOp } from './routed.js';
import { MAX_USER_LENGTH } from '../ingest/event-rules.js';
import { scriptsOn } from '../redis/scripts.js';

/**
 * How long a queued reset's marker stays (ms): the client's resend of the append, its reply lost
 * to a dropped connection, comes when the connection is back.
 */
const QUEUED_ONCE_MS = 3_600_000;

/** What a reset did, as stored by the partition's commit for the requester. */
export interface ResetOutcome {
  found: boolean;
  previous?: string;
  level?: string;
  version?: number;
  /** The level change made (null when the level was already low). */
  change?: unknown;
  /** A `revoke_sessions` op's: the user's revocation mark after it (the op's arrival, epoch ms; src/sessions/policy-mark.ts). */
  revoked_up_to?: number;
}

/** The ops the control stream carries. */
const CONTROL_OPS: ReadonlySet<string> = new Set<ControlOp['op']>(['reset', 'revoke_sessions']);

/** Reads a control entry's fields; a string says why it is not one. */
export function decodeControl(fields: Record<string, string>): ControlOp | string {
  const { op, req, user, actor, reason } = fields;
  if (!op || !CONTROL_OPS.has(op)) return 'control_invalid: op must be reset or revoke_sessions';
  if (!req || !user || !actor) return 'control_invalid: req, user and actor are required';
  // As riskstream writes them (a UUID, a normalised user, `token:<8 hex>` or `cli:<name>`, a reason cut to 500): anything longer was not.
  if (req.length > 64 || user.length > MAX_USER_LENGTH || charCount(actor) > 200 || charCount(reason ?? '') > 500)
    return 'control_invalid: a field is longer than riskstream writes it';
  return { op: op as ControlOp['op'], req, user, actor, reason: reason ?? '' };
}

/**
 * Asks the owner of `user`'s partition to reset the user, in order with the input (through the
 * control stream and the router), and waits for the committed outcome.
 */
export function requestReset(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  timeoutMs = 15_000,
  unapplied = `no worker applied the reset of ${req.user} within ${timeoutMs} ms (is a worker running?); it stays queued and is applied in order when a worker owns the user's partition — check the audit log (risk.reset) before sending it again`,
): Promise<ResetOutcome> {
  return requestControl(redis, keys, 'reset', req, timeoutMs, unapplied);
}

/**
 * Asks the owner of `user`'s partition to raise the user's revocation mark to this request's
 * arrival (an admin's revoke-all of the user's sessions: a session login applied after it, though
 * not later in event time, is then revoked on its own), in order with the input, and waits for the
 * committed outcome (`revoked_up_to`). UNAVAILABLE when no owner applied it within `timeoutMs`: it
 * stays queued, applied in order when an owner runs.
 */
export function requestRevokeMark(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  timeoutMs = 15_000,
): Promise<ResetOutcome> {
  const unapplied = `no worker applied the revocation mark of ${req.user} within ${timeoutMs} ms; it stays queued and is applied in order when a worker owns the user's partition`;
  return requestControl(redis, keys, 'revoke_sessions', req, timeoutMs, unapplied);
}

/**
 * {@link requestRevokeMark}'s mark (epoch ms), or undefined when the user is unknown or no owner
 * applied it within `timeoutMs` (it stays queued): the caller's revoke-all goes on either way.
 */
export async function revokeMarkOrNone(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  timeoutMs?: number,
): Promise<number | undefined> {
  try {
    return (await requestRevokeMark(redis, keys, req, timeoutMs)).revoked_up_to;
  } catch (err) {
    if (err instanceof RiskstreamError && err.code === 'UNAVAILABLE') return undefined;
    throw err;
  }
}

/** Appends a control op to the control stream and waits for the outcome its owner commits. */
async function requestControl(
  redis: RedisClient,
  keys: Keys,
  op: ControlOp['op'],
  req: { user: string; actor: string; reason: string },
  timeoutMs: number,
  unapplied: string,
): Promise<ResetOutcome> {
  const id = randomUUID();
  await queueControl(redis, keys, ['op', op, 'req', id, 'user', req.user, 'actor', req.actor, 'reason', req.reason], id);
  const deadline = Date.now() + timeoutMs;
  for (let wait = 2; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    const v = await redis.get(keys.controlResult(keys.partitionOf(req.user), id));
    if (v) return JSON.parse(v) as ResetOutcome;
    await new Promise((r) => setTimeout(r, wait));
  }
  throw new RiskstreamError('UNAVAILABLE', unapplied);
}

/**
 * Appends a control entry once: with a marker of request `id` in the control stream's slot
 * (src/redis/scripts/dead-letter-2.lua), so a client's resend of the append (ioredis resends a
 * command whose reply a dropped connection lost; the first send had landed) appends nothing — a
 * second entry would reset the user again, clearing what the user's events raised in between.
 */
async function queueControl(redis: RedisClient, keys: Keys, fields: string[], id: string): Promise<void> {
  const marker = streamOnceMarker(keys.controlStream, `control:${id}`);
  if (marker === undefined) await redis.xadd(keys.controlStream, '*', ...fields);
  else await scriptsOn(redis).deadLetter(keys.controlStream, marker, String(QUEUED_ONCE_MS), '', ...fields);
}
