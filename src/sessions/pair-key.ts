/**
 * The in-memory key of one user's session (the router's recent logins, the partition owner's
 * pending identities, a commit's sign-outs and refusals). Unambiguous: the user's length comes
 * first, so no other user and session id read the same — a user id and a session id may hold any
 * character, NUL included (`a` with session `b\u0000c` and `a\u0000b` with session `c` are two).
 */
export const sessionPairKey = (user: string, sid: string): string => `${user.length}:${user}\u0000${sid}`;
