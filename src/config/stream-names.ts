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
