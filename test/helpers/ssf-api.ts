import { call } from '../api/helpers.js';

/** The SSF event type URIs the stream tests use. */
export const CAEP_RISK = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
export const CAEP_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const PUSH = 'urn:ietf:rfc:8935';

/** A JSON client of a worker's HTTP API with a bearer token (`call` with a JSON body). */
export function apiClient(base: () => string, defaultToken: string) {
  return (method: string, path: string, body?: unknown, token = defaultToken): ReturnType<typeof call> =>
    call(base(), path, {
      method,
      token,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
}
