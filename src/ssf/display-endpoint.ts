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
 * password (`https://user:pass@host`) and each query value (`?code=<function key>`), decoded.
 * Nothing for a URL that does not parse.
 */
export function endpointSecrets(endpoint: string): string[] {
  try {
    const u = new URL(endpoint);
    const out = [...u.searchParams.values()];
    for (const part of [u.username, u.password]) if (part) out.push(decodeURIComponent(part));
    return out;
  } catch {
    return [];
  }
}
