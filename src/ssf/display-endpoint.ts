import { knownSecrets } from '../secrets/known-secrets.js';

/**
 * An endpoint URL as it may be shown (audit log, console, API): no `user:password@`, no query
 * values (tokens often ride there), no fragment. The one place receiver URLs are made safe to show.
 */
export function displayEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    const auth = u.username || u.password ? '[redacted]@' : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}${u.search ? '?[redacted]' : ''}`;
  } catch {
    return '[invalid URL]';
  }
}

/**
 * What in an endpoint URL is a credential, as {@link displayEndpoint} hides it: the user and
 * password (`https://user:pass@host`) and each query value (`?code=<function key>`), decoded and
 * as the URL spells them (a receiver quoting the request target it got shows `%2B`, not `+`).
 * Nothing for a URL that does not parse.
 */
export function endpointSecrets(endpoint: string): string[] {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return [];
  }
  const out = [...u.searchParams.values()];
  for (const pair of u.search.slice(1).split('&')) {
    const at = pair.indexOf('=');
    if (at >= 0) out.push(pair.slice(at + 1));
  }
  for (const part of [u.username, u.password]) if (part) out.push(part, decoded(part));
  return out;
}

/**
 * A receiver's own credentials, to take out of text it or its owner wrote (an echoed error, a status
 * reason): its Authorization value and credential, and its endpoint URL's ({@link endpointSecrets}),
 * as {@link knownSecrets} lists them.
 */
export function receiverSecrets(authorization: string | undefined, endpoint: string): string[] {
  return knownSecrets({ receivers: [{ authorizationValue: authorization }], extra: endpointSecrets(endpoint) });
}

/** `s` percent-decoded, or as it is when it holds a `%` that is no escape. */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
