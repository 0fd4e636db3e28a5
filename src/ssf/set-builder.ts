/**
 * Pure Security Event Token builders (RFC 8417, CAEP 1.0, Okta ITP). No clock, no randomness:
 * `now` and `jti` are arguments, so the same input always gives the same header and claims.
 */
import type { ResolvedReceiver } from '../config/receiver.js';
import type { InitiatingEntity, LangText, LevelChange, RiskLevel, SigningAlg } from '../types.js';
import { levelChangeReasons, revokedReasons } from './reason-text.js';
import { isEmailAddress } from '../ingest/event-rules.js';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, OKTA_USER_RISK_CHANGE, SSF_STREAM_UPDATED, SSF_VERIFICATION } from '../event-types.js';

export { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, OKTA_USER_RISK_CHANGE, SSF_STREAM_UPDATED, SSF_VERIFICATION } from '../event-types.js';

/** Media type of a SET (the header `typ` and the push `Content-Type`). */
export const SET_TYP = 'secevent+jwt';

/** RFC 9493 subject identifier (the formats riskstream emits). */
export type SubjectId =
  | { format: 'email'; email: string }
  | { format: 'iss_sub'; iss: string; sub: string }
  | { format: 'opaque'; id: string }
  | { format: 'complex'; user: SubjectId; session?: SubjectId };

/** JWS protected header of a SET. */
export interface SetHeader {
  alg: SigningAlg;
  typ: typeof SET_TYP;
  kid: string;
}

/** SET claims: exactly one event in `events`. */
export interface SetClaims {
  iss: string;
  aud: string;
  iat: number;
  jti: string;
  sub_id: SubjectId;
  txn?: string;
  events: Record<string, Record<string, unknown>>;
}

/** An unsigned SET. */
export interface BuiltSet {
  header: SetHeader;
  claims: SetClaims;
}

/** The receiver fields a SET depends on. */
export type SetReceiver = Pick<ResolvedReceiver, 'name' | 'kind' | 'audience' | 'subject_format' | 'subject_issuer' | 'reason_languages'>;

/** Inputs common to every SET. */
export interface SetEnvelope {
  issuer: string;
  receiver: SetReceiver;
  /** Signing key identity (`alg`, `kid`) — the header only, never key material. */
  key: { alg: SigningAlg; kid: string };
  /** Issue time, epoch ms. */
  now: number;
  jti: string;
}

/** NumericDate (whole seconds) from epoch ms. */
export function numericDate(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * The user's RFC 9493 subject identifier in the receiver's `subject_format`. A user that is not an
 * email address (an opaque id, CONTRACT §2) is never sent as an `email` subject: `opaque` instead.
 */
export function userSubject(user: string, receiver: SetReceiver): SubjectId {
  switch (receiver.subject_format) {
    case 'iss_sub':
      return { format: 'iss_sub', iss: receiver.subject_issuer ?? receiver.audience, sub: user };
    case 'opaque':
      return { format: 'opaque', id: user };
    default:
      return isEmailAddress(user) ? { format: 'email', email: user } : { format: 'opaque', id: user };
  }
}

function envelope(env: SetEnvelope, subId: SubjectId, eventType: string, event: Record<string, unknown>, txn?: string): BuiltSet {
  return {
    header: { alg: env.key.alg, typ: SET_TYP, kid: env.key.kid },
    claims: {
      iss: env.issuer,
      aud: env.receiver.audience,
      iat: numericDate(env.now),
      jti: env.jti,
      sub_id: subId,
      ...(txn !== undefined ? { txn } : {}),
      events: { [eventType]: event },
    },
  };
}

/** The reasons (see reason-text.ts), with an explicit `reasonUser` taking precedence. */
function reasons(r: { reason_admin: LangText; reason_user?: LangText }, reasonUser?: LangText): Record<string, LangText> {
  const user = reasonUser && Object.keys(reasonUser).length ? reasonUser : r.reason_user;
  return { reason_admin: r.reason_admin, ...(user ? { reason_user: user } : {}) };
}

/** Options of a risk-level-change SET. */
export interface LevelChangeSetInput extends SetEnvelope {
  change: LevelChange;
  /** End-user facing reason text, by language, when configured. */
  reasonUser?: LangText;
}

/**
 * A risk-level change as a SET: CAEP `risk-level-change` for kind `ssf` (levels upper case),
 * Okta `user-risk-change` for kind `okta` (lower case, subject inside the event too).
 * `txn` is the change id, shared by every receiver's copy.
 */
export function buildLevelChangeSet(input: LevelChangeSetInput): BuiltSet {
  const { change, receiver } = input;
  const subId = userSubject(change.user, receiver);
  const common = {
    event_timestamp: numericDate(change.time),
    initiating_entity: change.initiatingEntity,
    ...reasons(levelChangeReasons(change, receiver.reason_languages), input.reasonUser),
  };
  if (receiver.kind === 'okta') {
    return envelope(
      input,
      subId,
      OKTA_USER_RISK_CHANGE,
      {
        current_level: change.current,
        previous_level: change.previous,
        ...common,
        subject: { user: subId },
      },
      change.id,
    );
  }
  return envelope(
    input,
    subId,
    CAEP_RISK_LEVEL_CHANGE,
    {
      principal: 'USER',
      current_level: upper(change.current),
      previous_level: upper(change.previous),
      risk_reason: change.behaviors.length ? change.behaviors.join(', ') : change.reason,
      ...common,
    },
    change.id,
  );
}

function upper(level: RiskLevel): string {
  return level.toUpperCase();
}

/** What a session revocation says. */
export interface SessionRevoked {
  /** Deterministic id of the revocation (SET `txn`). */
  id: string;
  user: string;
  sessionId?: string;
  reason: string;
  initiatingEntity: InitiatingEntity;
  /** When it was revoked, epoch ms. */
  time: number;
}

/**
 * CAEP `session-revoked`. The subject is `complex` `{user, session}` when a session id is
 * known, else the user. Kind `okta` also carries the subject inside the event, as Okta's
 * `SecurityEventSubject` has it: the user only (it names `user`, `device` and `tenant`, no session).
 */
export function buildSessionRevokedSet(input: SetEnvelope & { revoked: SessionRevoked; reasonUser?: LangText }): BuiltSet {
  const { revoked, receiver } = input;
  const user = userSubject(revoked.user, receiver);
  const session: SubjectId | undefined = revoked.sessionId ? { format: 'opaque', id: revoked.sessionId } : undefined;
  const subId: SubjectId = session ? { format: 'complex', user, session } : user;
  return envelope(
    input,
    subId,
    CAEP_SESSION_REVOKED,
    {
      event_timestamp: numericDate(revoked.time),
      initiating_entity: revoked.initiatingEntity,
      ...reasons(revokedReasons(revoked.reason, receiver.reason_languages, revoked.initiatingEntity), input.reasonUser),
      ...(receiver.kind === 'okta' ? { subject: { user } } : {}),
    },
    revoked.id,
  );
}

/**
 * SSF `verification` event. The subject is the stream (opaque id; the receiver name for
 * receivers configured statically); `state` is echoed when given. `txn`: the verification
 * request's id (SSF 1.0 §4.1.9: Transmitters SHOULD set `txn`).
 */
export function buildVerificationSet(input: SetEnvelope & { state?: string; streamId?: string; txn?: string }): BuiltSet {
  const subId: SubjectId = { format: 'opaque', id: input.streamId ?? input.receiver.name };
  return envelope(input, subId, SSF_VERIFICATION, input.state !== undefined ? { state: input.state } : {}, input.txn);
}

/**
 * SSF `stream-updated` event (SSF 1.0 §8.1.5): the transmitter changed the stream's status. The
 * subject is the stream (opaque id); `reason` when given; `txn`: the status change's id.
 */
export function buildStreamUpdatedSet(input: SetEnvelope & { streamId: string; status: string; reason?: string; txn?: string }): BuiltSet {
  const subId: SubjectId = { format: 'opaque', id: input.streamId };
  return envelope(input, subId, SSF_STREAM_UPDATED, { status: input.status, ...(input.reason ? { reason: input.reason } : {}) }, input.txn);
}
