import { concatMap, type OperatorFunction } from 'rxjs';
import type { EntryRef, StreamEvent } from '../src/types.js';
import { buildIdentity, identityFilters, type IdentityFilters } from '../src/sessions/build-identity.js';
import type { SessionIdentity, SessionSettings } from '../src/sessions/identity.js';
import type { PutResult, SessionStore } from '../src/sessions/store.js';

/**
 * Session-audit pipeline. Reads the same batches as the risk pipeline; for every successful
 * login carrying a session it stores the granted identity (IdP claims, device posture, network)
 * with privacy filters applied — one pipelined Redis write per batch, before the batch is acked.
 * An honest function, not a stream: the risk pipeline runs it beside scoring in its commit stage
 * (`alsoCommit`), so its failure fails (and retries) the batch like a scoring failure.
 *
 *   batch ─► buildIdentity (pure, redacts) ─► SessionStore.put (TTL = session lifetime)
 */

/** Live `sessions` settings, or a function returning them (config reloads). */
export type SessionSettingsSource = SessionSettings | (() => SessionSettings);

/** Options of {@link sessionAudit}. */
export interface SessionAuditOptions {
  /** Called for an event whose identity could not be built (it is skipped; the risk pipeline still sees it). */
  onInvalid?: (ref: EntryRef, err: unknown) => void;
}

/** Builds a batch's session identities (privacy filters applied); an odd event is skipped, never fails the batch. */
export function identityBuilder(settings: SessionSettingsSource, opts: SessionAuditOptions = {}): (batch: readonly StreamEvent[]) => SessionIdentity[] {
  const current = typeof settings === 'function' ? settings : () => settings;
  let cache: { for: readonly string[]; filters: IdentityFilters } | undefined;
  return (batch) => {
    const s = current();
    if (cache?.for !== s.redact_claims) cache = { for: s.redact_claims, filters: identityFilters(s) };
    const identities: SessionIdentity[] = [];
    for (const { ref, event } of batch) {
      try {
        const id = buildIdentity(event, s, cache.filters);
        if (id) identities.push(id);
      } catch (err) {
        opts.onInvalid?.(ref, err);
      }
    }
    return identities;
  };
}

/** Stores a batch's session identities; resolves once they are in Redis. */
export function sessionAudit(
  store: SessionStore,
  settings: SessionSettingsSource,
  opts: SessionAuditOptions = {},
): (batch: readonly StreamEvent[]) => Promise<PutResult> {
  const build = identityBuilder(settings, opts);
  return async (batch) => {
    const identities = build(batch);
    return identities.length ? store.put(identities) : { stored: 0, skipped: 0, dropped: [] };
  };
}

/** RxJS form: stores each batch's sessions, then passes the batch on unchanged (in order). */
export function auditSessions(
  store: SessionStore,
  settings: SessionSettingsSource,
  opts: SessionAuditOptions = {},
): OperatorFunction<StreamEvent[], StreamEvent[]> {
  const run = sessionAudit(store, settings, opts);
  return concatMap(async (batch: StreamEvent[]) => {
    await run(batch);
    return batch;
  });
}
