import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import { displayEndpoint } from './display-endpoint.js';
import { hashCas } from '../redis/hash-cas.js';

/** Non-secret fingerprint of a receiver's settings. */
function fingerprint(r: ResolvedReceiver): string {
  const { authorizationValue, authorization, ...rest } = r;
  void authorization;
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, auth: authorizationValue ? 'set' : 'none' }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Audits configured receivers that were added, changed or removed since the last start or reload
 * (`receiver.enabled` / `receiver.changed` / `receiver.disabled`), so enabling sharing shows in
 * the audit log. Known receivers are remembered in Redis; each change is claimed there first
 * (compare-and-set), so of several workers reloading at once one writes its audit entry.
 */
export async function auditReceivers(deps: { redis: RedisClient; keys: Keys; audit: AuditLog }, receivers: ResolvedReceiver[]): Promise<void> {
  const key = deps.keys.receiversKnown;
  const cas = (field: string, expected: string, next: string): Promise<boolean> => hashCas(deps.redis, key, field, expected, next);
  const known = await deps.redis.hgetall(key);
  const now = new Map(receivers.map((r) => [r.name, r]));
  for (const [name, r] of now) {
    // The fingerprint, then whether the receiver is on: turning sharing on or off is audited as
    // such, whatever else changed with it.
    const fp = `${fingerprint(r)}${r.enabled ? '+' : '-'}`;
    const was = known[name];
    if (was === fp) continue;
    // Remembered before the on/off mark existed and unchanged: remembered again, not audited.
    if (was !== undefined && was === fp.slice(0, -1)) {
      await cas(name, was, fp);
      continue;
    }
    if (!(await cas(name, was ?? '', fp))) continue;
    // Not remembered: a new receiver (enabled or disabled); remembered without the mark: changed.
    const wasOn = was === undefined ? undefined : was.endsWith('+') ? true : was.endsWith('-') ? false : r.enabled;
    const action = wasOn === r.enabled ? 'receiver.changed' : r.enabled ? 'receiver.enabled' : 'receiver.disabled';
    await deps.audit.write({
      action,
      actor: 'config',
      target: name,
      details: { kind: r.kind, endpoint: displayEndpoint(r.endpoint), audience: r.audience, events: r.events, enabled: r.enabled },
    });
  }
  for (const [name, fp] of Object.entries(known)) {
    if (now.has(name) || !(await cas(name, fp, ''))) continue;
    await deps.audit.write({ action: 'receiver.disabled', actor: 'config', target: name, details: { removed: true } });
  }
}
