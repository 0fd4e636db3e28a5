/** What bin/riskstream.js holds of signals that came before the worker command took them. */
interface EarlySignals {
  seen: string[];
  handlers: Map<string, () => void>;
}

/**
 * The signals bin/riskstream.js held for `riskstream worker` while its modules loaded, in order
 * (its holding handlers removed): the worker acts on them as on any signal during its start.
 * Empty when started otherwise.
 */
export function takeEarlySignals(): string[] {
  const g = globalThis as { __riskstreamEarlySignals?: EarlySignals };
  const early = g.__riskstreamEarlySignals;
  if (!early) return [];
  for (const [sig, h] of early.handlers) process.removeListener(sig, h);
  delete g.__riskstreamEarlySignals;
  return early.seen;
}
