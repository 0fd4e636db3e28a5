import { schemaFor, type BehaviorConfig, type BehaviorKind } from '../../src/config/behaviors-schema.js';

/** A validated behavior, as the config loader builds it from its behaviors.yaml entry `raw`. */
export function behavior(id: string, raw: Record<string, unknown>): BehaviorConfig {
  const v = schemaFor(id, raw)!.parse(raw) as BehaviorConfig['params'] & Pick<BehaviorConfig, 'risk_level' | 'expires_after'> & { kind?: string };
  return { id, kind: (v.kind ?? id) as BehaviorKind, enabled: v.enabled, risk_level: v.risk_level, expires_after: v.expires_after, params: v };
}
