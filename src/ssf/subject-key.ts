import { RiskstreamError } from '../errors.js';
import { Invalid, toUser } from '../ingest/event-rules.js';

/**
 * A subject's user id normalised as ingest normalises `user` (trimmed, NFC, an email address
 * lower-cased): the key must equal the user SETs are sent for, however the receiver spells it
 * (docs/interfaces.md §2: the API normalises a user it is asked about the same way).
 */
function userKey(v: string): string {
  const u = toUser(v, 'subject');
  if (!(u instanceof Invalid)) return u;
  if (!v.trim()) throw new RiskstreamError('BAD_REQUEST', 'subject: must not be empty');
  return v; // too long (the caller's length check refuses it) or not well-formed (never a user's)
}

/** The RFC 9493 formats riskstream names a user by, each with the member that holds the user id. */
const TRACKED = new Map([
  ['email', 'email'],
  ['opaque', 'id'],
  ['iss_sub', 'sub'],
]);

/** A JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * True for the subject that identifies stream `streamId` itself, `{"format":"opaque","id":<streamId>}`
 * (the `sub_id` of its verification and stream-updated SETs): SSF 1.0 §8.1.4.1 / §8.1.5 — it "is
 * always implicitly added to the stream and MAY NOT be removed from the stream".
 */
export function isStreamSubject(subject: unknown, streamId: string): boolean {
  // Compared as the subject is keyed (trimmed, NFC): a spelling that would be stored as the stream's id is the stream's.
  return (
    isObject(subject) && subject.format === 'opaque' && typeof subject.id === 'string' && subject.id.trim() !== '' && userKey(subject.id) === userKey(streamId)
  );
}

/**
 * Separates a user's key from a session id in the key of a complex subject naming a session. U+FFFD
 * is in no user id (ingest refuses it; {@link subjectKey} too), so no user's key is ever read as one of these.
 */
const SESSION_SEP = '\ufffd';

/** The key of a complex subject naming `user`'s session `sessionId` (the `session` of a session-revoked SET's `sub_id`). */
export function sessionSubjectKey(user: string, sessionId: string): string {
  return `${user}${SESSION_SEP}${sessionId}`;
}

/** A subject key as its user and, for a complex subject naming a session, that session's id. */
export function subjectOfKey(key: string): { user: string; session?: string } {
  const at = key.indexOf(SESSION_SEP);
  return at < 0 ? { user: key } : { user: key.slice(0, at), session: key.slice(at + 1) };
}

/**
 * True when `removed` (a stream's removed subject keys) stops a SET about `user` — and, for a
 * session-revoked SET, its session `sessionId`: the user was removed, or that session of the user
 * (SSF 1.0 §8.1.3.1: `{user, session}` matches only the events naming that session).
 */
export function isSubjectRemoved(removed: readonly string[] | undefined, user: string, sessionId?: string): boolean {
  if (!removed?.length) return false;
  return removed.includes(user) || (sessionId !== undefined && removed.includes(sessionSubjectKey(user, sessionId)));
}

/** The key of a complex subject's `session` member (`sessionSubjectKey`), for `user`'s key. */
function sessionKey(user: string, session: unknown): string {
  if (!isObject(session) || typeof session.format !== 'string') {
    throw new RiskstreamError('BAD_REQUEST', 'subject.session must be an RFC 9493 subject identifier object (with a format)');
  }
  // riskstream names sessions `opaque` only: another format matches none of its SETs.
  if (session.format !== 'opaque') throw new RiskstreamError('NOT_FOUND', 'subject not recognized: riskstream names sessions by opaque id');
  if (typeof session.id !== 'string' || !session.id.trim()) throw new RiskstreamError('BAD_REQUEST', 'subject.session: format opaque needs a string id');
  return sessionSubjectKey(user, session.id.trim());
}

/**
 * The key a subject is tracked by: the user id its email, opaque id or `sub` (of `iss_sub`, whatever
 * the `iss`) names, directly or as a complex subject's `user` — with its opaque `session` when it
 * names one ({@link sessionSubjectKey}: only that session's SETs match, {@link isSubjectRemoved}). A
 * subject that is no identifier (not an object, no string `format`, a tracked format without its
 * member, a `session` that is none) is BAD_REQUEST (400); a
 * well-formed one riskstream sends no events about — another format (`phone_number`, `account`,
 * `aliases` …), a complex subject without a `user` or whose `session` is not `opaque` — is NOT_FOUND (404): SSF 1.0 §8.1.3.2 / §8.1.3.3
 * answer "the subject is not recognized by the Event Transmitter" with 404, not 400.
 */
export function subjectKey(subject: unknown): string {
  if (!isObject(subject) || typeof subject.format !== 'string') {
    throw new RiskstreamError('BAD_REQUEST', 'subject must be an RFC 9493 subject identifier object (with a format)');
  }
  const complex = subject.format === 'complex';
  if (complex && subject.user !== undefined && !(isObject(subject.user) && typeof subject.user.format === 'string')) {
    throw new RiskstreamError('BAD_REQUEST', 'subject.user must be an RFC 9493 subject identifier object (with a format)');
  }
  const inner = complex ? (subject.user as Record<string, unknown> | undefined) : subject;
  const member = inner ? TRACKED.get(inner.format as string) : undefined;
  if (!inner || !member) {
    throw new RiskstreamError(
      'NOT_FOUND',
      'subject not recognized: riskstream names users by email, opaque or iss_sub (or a complex subject with such a user)',
    );
  }
  const v = inner[member];
  if (typeof v !== 'string') throw new RiskstreamError('BAD_REQUEST', `subject: format ${inner.format as string} needs a string ${member}`);
  const user = userKey(v);
  // An id holding U+FFFD is no user's (ingest refuses it); kept, it would read as a session subject's key.
  if (user.includes(SESSION_SEP)) throw new RiskstreamError('NOT_FOUND', 'subject not recognized: no user id holds U+FFFD (ingest refuses it)');
  return complex && subject.session !== undefined ? sessionKey(user, subject.session) : user;
}

/**
 * PAYLOAD_TOO_LARGE when a part of the subject key `key` — the user's id, a complex subject's
 * session id — is longer than `max` characters: each part apart, so a session riskstream names (up
 * to 512 characters, src/secrets/stored-ids.ts) is refused for its own length, not its user's.
 */
export function checkSubjectLength(key: string, max: number): void {
  const { user, session } = subjectOfKey(key);
  if (user.length > max) throw new RiskstreamError('PAYLOAD_TOO_LARGE', `subject is longer than ${max} characters`);
  if (session !== undefined && session.length > max) throw new RiskstreamError('PAYLOAD_TOO_LARGE', `subject.session is longer than ${max} characters`);
}
