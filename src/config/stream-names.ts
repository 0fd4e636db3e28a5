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
 * Keys under `<prefix>:` that riskstream keeps besides its streams, by the part after the prefix:
 * an event appended there makes a stream where the worker expects a string, hash or sorted set
 * (an engine lease it then never takes: no input routed, no error; a user's delivery records it
 * then cannot write). Partition keys (`{p<n>}:…`) and the SSF streams' keys are named apart.
 */
const OWN_KEYS: Array<[RegExp, string]> = [
  [/^\{[^}]*\}:(lease|epoch)$/, 'an engine lease key (the router or a partition)'],
  [/^engine:/, 'a key of the engine (its workers, partition count, worker ids)'],
  [/^u:\{/, "a key of a user's SET deliveries or response policies"],
  [/^ip:\{|^ip-spray:/, "a key of password_spray's per-IP tallies"],
  [/^behaviors:/, "a key of the behaviors' epochs"],
  [/^receivers:/, "a key of the receivers' state"],
];

/**
 * What `stream` is when it is one of riskstream's own streams or keys — the dead-letter,
 * risk-events, audit or control stream, a partition stream, a user's risk events or outbox, the
 * SSF streams' changes, an engine lease, the SET delivery queue's keys, … — and not an input: no
 * event is to be written there (`replay --stream`: an audit log entry riskstream never wrote, a
 * partition entry its owner cannot read, a lease no worker can take). Undefined for any other stream.
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
  if (stream.startsWith(`${keys.bullPrefix}:`)) return 'a key of the SET delivery queue (BullMQ)';
  if (names.inputs.some((input) => keys.routerFence(input) === stream)) return "an input stream's router fence";
  if (names.inputs.some((input) => keys.routedTop(input) === stream)) return "an input stream's routed mark";
  if (!stream.startsWith(`${prefix}:`)) return undefined;
  const rest = stream.slice(prefix.length + 1);
  if (/^\{p\d+\}:in$/.test(rest)) return 'a partition stream (routed input)';
  // A user's risk events and outbox (the relay reads an outbox entry as a level change) live in their partition's slot.
  if (/^\{p\d+\}:/.test(rest)) return "a key of a partition (a user's risk events or outbox)";
  if (rest.startsWith('ssf:')) return 'a key of the SSF streams (their changes stream)';
  return OWN_KEYS.find(([pattern]) => pattern.test(rest))?.[1];
}
