/**
 * Values the I/O edge attaches to an event for the pure logic downstream (a session's captured
 * baseline, a refreshed session's stored identity, an IP's failures), under a symbol: input JSON
 * can never carry one, so a shipper cannot forge it. Pure.
 */

/** The value attached to `event` under `key`, if any. */
export function attachedValue<T>(event: object, key: symbol): T | undefined {
  return (event as Record<symbol, T | undefined>)[key];
}

/** Attaches `value` to `event` under `key`; undefined removes what was attached. */
export function attach<T>(event: object, key: symbol, value: T | undefined): void {
  const e = event as Record<symbol, T | undefined>;
  if (value) e[key] = value;
  else if (e[key] !== undefined) delete e[key];
}
