import type { BehaviorConfig } from './behaviors-schema.js';
import type { Config } from './load.js';

/** What a reload changed in one kind of named entries: added, removed, and per kept name the fields that differ. */
export interface NamedChanges {
  added: string[];
  removed: string[];
  /** By name: the fields whose value changed (names only, never values: a receiver's credentials are among them). */
  changed: Record<string, string[]>;
}

/** Tokens a reload added and removed, by kind (counts only: a token is a secret). */
export type TokenChanges = Partial<Record<'admin' | 'ingest' | 'ssf' | 'metrics', { added: number; removed: number }>>;

/** What a reload changed (for its audit entry); a kind left out changed nothing. */
export interface ConfigChanges {
  behaviors?: NamedChanges;
  receivers?: NamedChanges;
  /** The `signing` settings that changed, by name (`kid`, `keys`, `withdrawn_kids` …): a rotation or a withdrawal. */
  signing?: string[];
  /** The bearer tokens added and removed (config and environment together), counted. */
  tokens?: TokenChanges;
}

type Changed = Pick<Config, 'behaviors' | 'receivers'> & Partial<Pick<Config, 'raw' | 'adminTokens' | 'ingestTokens' | 'ssfTokens' | 'metricsTokens'>>;

/** Receiver fields reported under another name: the resolved header stands for the credential it came from. */
const FIELD_NAMES: Record<string, string> = { authorizationValue: 'authorization' };

/**
 * The behaviors and receivers `next` adds, removes or changes against `prev`, the signing settings
 * and the tokens it changes (pure). A receiver's rotated credential shows as a changed
 * `authorization` field and a token as a count (no value ever appears), so an audit entry records
 * that credentials or keys changed and which.
 */
export function configChanges(prev: Changed, next: Changed): ConfigChanges {
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
  if (prev.raw && next.raw) {
    const signing = changedFields(prev.raw.signing, next.raw.signing);
    if (signing.length) out.signing = signing;
  }
  const tokens: TokenChanges = {};
  for (const [kind, field] of TOKEN_FIELDS) {
    const before = new Set(prev[field] ?? []);
    const after = new Set(next[field] ?? []);
    const added = [...after].filter((t) => !before.has(t)).length;
    const removed = [...before].filter((t) => !after.has(t)).length;
    if (added || removed) tokens[kind] = { added, removed };
  }
  if (Object.keys(tokens).length) out.tokens = tokens;
  return out;
}

const TOKEN_FIELDS = [
  ['admin', 'adminTokens'],
  ['ingest', 'ingestTokens'],
  ['ssf', 'ssfTokens'],
  ['metrics', 'metricsTokens'],
] as const;

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
