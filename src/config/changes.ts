import type { BehaviorConfig } from './behaviors-schema.js';
import type { Config } from './load.js';

/** What a reload changed in one kind of named entries: added, removed, and per kept name the fields that differ. */
export interface NamedChanges {
  added: string[];
  removed: string[];
  /** By name: the fields whose value changed (names only, never values: a receiver's credentials are among them). */
  changed: Record<string, string[]>;
}

/** What a reload changed in the behaviors and receivers (for its audit entry); a kind left out changed nothing. */
export interface ConfigChanges {
  behaviors?: NamedChanges;
  receivers?: NamedChanges;
}

/** Receiver fields reported under another name: the resolved header stands for the credential it came from. */
const FIELD_NAMES: Record<string, string> = { authorizationValue: 'authorization' };

/**
 * The behaviors and receivers `next` adds, removes or changes against `prev` (pure). A receiver's
 * rotated credential shows as a changed `authorization` field (its value never appears), so an
 * audit entry records that credentials changed and which receiver's.
 */
export function configChanges(prev: Pick<Config, 'behaviors' | 'receivers'>, next: Pick<Config, 'behaviors' | 'receivers'>): ConfigChanges {
  const out: ConfigChanges = {};
  const behaviors = namedChanges(
    prev.behaviors.map((b) => [b.id, entryOf(b)]),
    next.behaviors.map((b) => [b.id, entryOf(b)]),
  );
  if (behaviors) out.behaviors = behaviors;
  const receivers = namedChanges(
    prev.receivers.map((r) => [r.name, r]),
    next.receivers.map((r) => [r.name, r]),
  );
  if (receivers) out.receivers = receivers;
  return out;
}

/** A behavior as its behaviors.yaml entry (validated): its changed fields are named by their keys (`failures`), not `params`. */
function entryOf(b: BehaviorConfig): object {
  return { ...b.params, kind: b.kind, enabled: b.enabled, risk_level: b.risk_level, expires_after: b.expires_after };
}

function namedChanges(prev: Array<[string, object]>, next: Array<[string, object]>): NamedChanges | undefined {
  const before = new Map(prev);
  const after = new Map(next);
  const added = [...after.keys()].filter((n) => !before.has(n));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const changed: Record<string, string[]> = {};
  for (const [name, b] of after) {
    const a = before.get(name);
    if (!a) continue;
    const fields = changedFields(a as Record<string, unknown>, b as Record<string, unknown>);
    if (fields.length) changed[name] = fields;
  }
  return added.length || removed.length || Object.keys(changed).length ? { added, removed, changed } : undefined;
}

function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  // A set: a field and the one reported under its name (the credential and its resolved header) count once.
  const out = new Set<string>();
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.add(FIELD_NAMES[k] ?? k);
  return [...out].sort();
}
