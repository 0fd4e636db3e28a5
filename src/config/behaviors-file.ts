/** Finding the behaviors file: the shipped defaults, and telling a behaviors document from a main config. */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { packageRoot } from '../package-root.js';
import type { ConfigIssue, Parsed } from './yaml-source.js';
import { riskstreamSchema } from './schema.js';

/** The package's own `config/behaviors.yaml` (the commented defaults); undefined if it was installed without it. */
export function shippedBehaviorsFile(): string | undefined {
  const f = join(packageRoot(), 'config', 'behaviors.yaml');
  return existsSync(f) ? f : undefined;
}

/**
 * True when a file given as the main config is in fact a behaviors document: none of its keys is a
 * riskstream.yaml section (`sessions: {enabled: false}` alone is a main file, though it has an
 * `enabled`), and some entry looks like a behavior's.
 */
export function looksLikeBehaviors(p: Parsed): boolean {
  const js = p.js;
  if (!js || typeof js !== 'object') return false;
  const keys = Object.keys(js);
  return (
    keys.length > 0 &&
    keys.every((k) => !Object.hasOwn(riskstreamSchema.shape, k)) &&
    Object.values(js).some((v) => v && typeof v === 'object' && ('risk_level' in v || 'enabled' in v || 'kind' in v))
  );
}

/**
 * `riskstream.yml` / `behaviors.yml` in the configuration directory where the `.yaml` one it would
 * read is not there: such a file is never read — every setting at its default, or the shipped
 * behaviors instead of the admin's —, so it is an issue (rename it), not a silent default.
 */
export function misnamedFiles(dir: string, mainFile: string | undefined, behaviorsFile: string | undefined): ConfigIssue[] {
  const unread = [mainFile ? undefined : 'riskstream', behaviorsFile ? undefined : 'behaviors'].filter((n) => n !== undefined);
  return unread
    .map((name) => join(dir, `${name}.yml`))
    .filter((file) => existsSync(file))
    .map((file) => ({ file, line: 1, col: 1, message: `this file is not read: riskstream reads ${basename(file, '.yml')}.yaml (rename it)` }));
}
