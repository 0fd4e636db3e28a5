import { Keys } from '../keys.js';
import type { RiskstreamFileConfig } from './schema.js';

/** Stream and key names, resolved from the prefix. */
export interface StreamNames {
  login: string;
  activity: string;
  /** Every input stream, login first. */
  inputs: string[];
  deadLetter: string;
  riskEvents: string;
  audit: string;
  group: string;
}

/** The streams a configuration names: each its configured name, else the key prefix's default. */
export function streamNames(raw: RiskstreamFileConfig): StreamNames {
  const s = raw.streams;
  const keys = new Keys(raw.redis.prefix);
  const login = s.login ?? keys.loginStream;
  const activity = s.activity ?? keys.activityStream;
  return {
    login,
    activity,
    inputs: [...new Set([login, activity, ...s.extra])],
    deadLetter: s.dead_letter ?? keys.deadLetterStream,
    riskEvents: s.risk_events ?? keys.riskEventsStream,
    audit: s.audit ?? keys.auditStream,
    group: s.group,
  };
}

/**
 * What `stream` is when it is one of riskstream's own streams — the dead-letter, risk-events,
 * audit or control stream, a partition stream, a user's risk events or outbox, the SSF streams'
 * changes — and not an input: no event is to be written there (`replay --stream`: an audit log entry riskstream never wrote, a partition entry its owner
 * cannot read). Undefined for any other stream.
 */
export function ownStreamRole(names: StreamNames, prefix: string, stream: string): string | undefined {
  if (names.inputs.includes(stream)) return undefined;
  const keys = new Keys(prefix);
  const own: Array<[string, string]> = [
    [names.deadLetter, 'the dead-letter stream (streams.dead_letter)'],
    [names.riskEvents, 'the risk-events stream (streams.risk_events)'],
    [names.audit, 'the audit log (streams.audit)'],
    [keys.controlStream, 'the control stream (admin resets)'],
  ];
  const found = own.find(([name]) => name === stream);
  if (found) return found[1];
  if (!stream.startsWith(`${prefix}:`)) return undefined;
  const rest = stream.slice(prefix.length + 1);
  if (/^\{p\d+\}:in$/.test(rest)) return 'a partition stream (routed input)';
  // A user's risk events and outbox (the relay reads an outbox entry as a level change) live in their partition's slot.
  if (/^\{p\d+\}:/.test(rest)) return "a key of a partition (a user's risk events or outbox)";
  return rest.startsWith('ssf:') ? 'a key of the SSF streams (their changes stream)' : undefined;
}
