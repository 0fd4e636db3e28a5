import type { Config } from '../config/load.js';
import type { ApplyContext } from '../engine/apply.js';

/** The owner's apply context from config: behaviors, detector limits (`state.*`) and processing time `now`. */
export function applyContextOf(config: Config, now: number): ApplyContext {
  const s = config.raw.state;
  return { behaviors: config.behaviors, limits: { maxLogins: s.max_logins, maxAge: s.login_max_age, allowedLateness: s.allowed_lateness }, now };
}
