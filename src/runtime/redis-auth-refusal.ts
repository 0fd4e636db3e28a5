import type { RedisClient } from '../redis/client.js';

/**
 * Redis's refusal of a connection's credentials (a password changed or rotated under a running
 * worker: every reconnect is refused), remembered per client so that `/readyz` names the cause
 * rather than the symptom (`reconnecting`). Only the reply's code is kept (`WRONGPASS`, `NOAUTH`,
 * …): never the message, which for some servers and commands may echo what was sent.
 */
const refusals = new WeakMap<object, string>();

/** The refusal code of a Redis error about credentials, else undefined. */
export function authRefusalCode(message: string): string | undefined {
  const code = /^(WRONGPASS|NOAUTH)\b/.exec(message)?.[1];
  if (code) return code;
  // Older servers (before ACLs): `ERR invalid password`; a password sent where none is set.
  if (/^ERR (invalid password|AUTH\b|Client sent AUTH)/.test(message)) return 'ERR AUTH';
  return undefined;
}

/** Records `err` on `redis` when it is a credentials refusal; any other error leaves the record. */
export function noteRedisError(redis: RedisClient, err: Error): void {
  const code = authRefusalCode(err.message);
  if (code) refusals.set(redis, code);
}

/** Forgets the refusal (the connection is ready again). */
export function clearAuthRefusal(redis: RedisClient): void {
  refusals.delete(redis);
}

/** The words for an operator: why the connection is refused and what to change, without any credential. */
export function authRefusalText(code: string): string {
  return `authentication refused by Redis (${code}): the password or user riskstream connects with (redis.url / REDIS_URL) does not match the server's; fix it and restart the worker`;
}

/** The remembered refusal of `redis`, as {@link authRefusalText}; undefined when none. */
export function authRefusal(redis: RedisClient): string | undefined {
  const code = refusals.get(redis);
  return code === undefined ? undefined : authRefusalText(code);
}
