/**
 * True for a value an HTTP header can carry as it is: printable ASCII and tabs — no CR or LF (a
 * header injection), no other control character, nothing node's `http` refuses at send time.
 */
export function isHeaderValue(v: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(v);
}
