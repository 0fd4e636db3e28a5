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
