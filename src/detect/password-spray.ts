/**
 * password_spray: one source IP fails logins for at least `users` distinct users within
 * `window`; a user who then logs in successfully from that IP is flagged.
 *
 * The rule depends only on the set of events, never on their arrival order: a successful login
 * at time t from ip X is flagged when X's failed logins in [t − window, t] name ≥ `users`
 * distinct users. A sign-in whose password was accepted but which did not complete (interrupted
 * for MFA, blocked by policy: `isCredentialAccepted`, src/login.ts) is such a success, never a
 * failure; its hit says so (evidence `outcome`). The IP's failures are other users' events, so
 * they cannot live in the victim's per-user window: the ingest edge (src/ingest/ip-spray.ts) keeps each IP's recent
 * logins under the IP's own Redis key and attaches, under {@link IP_FAILURES}, the IP's failures
 * up to the success's time to each successful login it judges (a success whose failures
 * arrive later is re-presented then as a `password_spray.victim` event of that user). This
 * detector then flags the user in the user's own path. The marker is a symbol: input can never
 * carry it. Window: the ids of the successes already flagged (replays flag nothing new).
 */
import { z } from 'zod';
import { attachedValue } from '../attachment.js';
import { formatDuration, windowMs } from '../duration.js';
import { acceptedCredential, asAcceptedCredential, isSuccessfulLogin, type AcceptedCredential } from '../login.js';
import type { CanonicalEvent } from '../types.js';
import { ipInNetworks } from './allow-list.js';
import { credentialSuccess, isoTime } from './format.js';
import { cidr } from './params.js';
import type { Detector } from './types.js';

/** password_spray's parameters. */
export const passwordSprayParams = z.strictObject({
  /** Distinct users the IP must have failed for. */
  users: z.number().int().min(2).default(10),
  /** How far back from the success the failures may lie (event time). */
  window: windowMs.prefault('1h'),
  /** Source networks (CIDRs: office NAT, VPN egress) never judged: many users share them. */
  allow_networks: z.array(cidr).default([]),
});
export type PasswordSprayParams = z.output<typeof passwordSprayParams>;

/** One failed login of an IP: event time, user, event id. */
export type IpFailure = [time: number, user: string, id: string];

/** Where the ingest edge attaches an IP's failures to a success it judges (never from input). */
export const IP_FAILURES: unique symbol = Symbol('riskstream.ipFailures');

/** Type of the event re-presenting an earlier success that later-arriving failures made a spray victim. */
export const SPRAY_VICTIM_TYPE = 'password_spray.victim';

/**
 * How a judged success ended when its password was accepted but its sign-in did not complete: from
 * the login itself, or the outcome a victim event carries (src/ingest/ip-spray.ts). Else undefined.
 */
function acceptedOf(event: CanonicalEvent): AcceptedCredential | undefined {
  return event.type === SPRAY_VICTIM_TYPE ? asAcceptedCredential(event.outcome) : acceptedCredential(event);
}

/** The failures attached to an event by the edge, if any. */
export function ipFailuresOf(event: CanonicalEvent): readonly IpFailure[] | undefined {
  const v = attachedValue<unknown>(event, IP_FAILURES);
  return Array.isArray(v) ? (v as IpFailure[]) : undefined;
}

/** What makes a success at `time` a spray victim: the failures in its window and their distinct users. */
export interface SprayVerdict {
  failures: IpFailure[];
  users: string[];
}

/**
 * The IP's failures within `window` before `time` (inclusive), and their distinct users, when
 * they are at least `users`; otherwise undefined. Pure.
 */
export function sprayVerdict(failures: readonly IpFailure[], time: number, params: PasswordSprayParams): SprayVerdict | undefined {
  const inWindow = failures.filter(([t]) => t <= time && t >= time - params.window).sort((a, b) => a[0] - b[0] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  const users = [...new Set(inWindow.map((f) => f[1]))].sort();
  return users.length >= params.users ? { failures: inWindow, users } : undefined;
}

/** Most flagged success ids a user's window remembers; most users and ids the evidence lists. */
const MAX_FLAGGED = 32;
const MAX_LISTED = 20;

/** Window: ids of the user's successes already flagged (newest last). */
export type SprayWindow = string[];

/** The password_spray detector (see the file comment). */
export const passwordSpray: Detector<PasswordSprayParams, SprayWindow> = {
  kind: 'password_spray',
  params: passwordSprayParams,
  accepts: (event) => ipFailuresOf(event) !== undefined,
  detect(window, { event, eventId }, params) {
    const failures = ipFailuresOf(event);
    const flagged = Array.isArray(window) ? window : [];
    const unchanged = { window, hits: [] };
    const accepted = failures && event.ip ? acceptedOf(event) : undefined;
    if (!failures || !event.ip || !(accepted || isSuccessfulLogin(event) || event.type === SPRAY_VICTIM_TYPE)) return unchanged;
    if (ipInNetworks(event.ip, params.allow_networks)) return unchanged;
    if (flagged.includes(eventId)) return unchanged; // this success again (replay, re-presented)
    const v = sprayVerdict(failures, event.time, params);
    if (!v) return unchanged;
    const first = v.failures[0]![0];
    const last = v.failures[v.failures.length - 1]![0];
    const victimFailed = v.users.includes(event.user);
    return {
      window: [...flagged, eventId].slice(-MAX_FLAGGED),
      hits: [
        {
          time: event.time,
          summary:
            `${credentialSuccess(accepted, event.ip)} at ${isoTime(event.time)}, which failed logins for ${v.users.length} users ` +
            `(${v.failures.length} failures within ${formatDuration(params.window)} before it)`,
          evidence: {
            ip: event.ip,
            success: eventId,
            distinct_users: v.users.length,
            failures: v.failures.length,
            first_failure: isoTime(first),
            last_failure: isoTime(last),
            span_s: Math.round((last - first) / 1000),
            victim_failed_too: victimFailed,
            users: v.users.slice(0, MAX_LISTED),
            ...(accepted ? { outcome: accepted, password_accepted: true } : {}),
          },
          eventIds: [eventId, ...v.failures.slice(-MAX_LISTED).map((f) => f[2])],
        },
      ],
    };
  },
};
