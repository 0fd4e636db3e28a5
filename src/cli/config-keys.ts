import { existsSync } from 'node:fs';
import { configPath, type Config, type ConfigIssue } from '../config/load.js';
import { locate, parseFile, type Parsed } from '../config/yaml-source.js';
import { isRiskstreamError } from '../errors.js';
import { loadPublicJwk } from '../ssf/jwks.js';
import { loadSigningKey } from '../ssf/keys.js';
import type { SigningAlg } from '../types.js';

/**
 * What the worker would refuse at start about signing keys, as config issues (`config check`):
 * key files that cannot be read or parsed, and enabled receivers signing with an alg that has no
 * key. A missing `signing.key_file` ending in `.pem` is no issue: the worker generates it.
 * Messages name files, never key material.
 */
export async function signingKeyIssues(c: Config): Promise<ConfigIssue[]> {
  const main = c.files.find((f) => !/behaviors\.ya?ml$/.test(f)) ?? c.files[0]!;
  let parsed: Parsed | undefined;
  const at = (path: PropertyKey[]): { line: number; col: number } => {
    parsed ??= parseFile(main, []);
    return parsed ? locate(parsed, path) : { line: 1, col: 1 };
  };
  const issues: ConfigIssue[] = [];
  const issue = (path: PropertyKey[], message: string): void => void issues.push({ file: main, ...at(path), message });
  const s = c.raw.signing;
  const algs = new Set<string>();
  const specs: Array<{ spec: { key_file: string; alg: SigningAlg; kid?: string | undefined }; path: PropertyKey[] }> = [
    { spec: { key_file: s.key_file, alg: s.alg, kid: s.kid }, path: ['signing', 'key_file'] },
  ];
  s.keys.forEach((k, i) => specs.push({ spec: k, path: ['signing', 'keys', i, 'key_file'] }));
  for (const [i, { spec, path }] of specs.entries()) {
    const file = configPath(c, spec.key_file);
    if (i === 0 && !existsSync(file) && file.endsWith('.pem')) {
      algs.add(spec.alg); // generated at the worker's first start
      continue;
    }
    try {
      algs.add((await loadSigningKey(file, spec.alg, spec.kid)).alg);
    } catch (err) {
      if (!isRiskstreamError(err)) throw err;
      issue(path, `${path.join('.')}: ${err.message}`);
    }
  }
  for (const [i, file] of s.previous_public_keys.entries()) {
    try {
      await loadPublicJwk(configPath(c, file));
    } catch (err) {
      if (!isRiskstreamError(err)) throw err;
      issue(['signing', 'previous_public_keys', i], `signing.previous_public_keys[${i}]: ${err.message}`);
    }
  }
  c.receivers.forEach((r, i) => {
    if (r.enabled && !algs.has(r.alg))
      issue(['receivers', i], `receivers[${i}] (${r.name}): signs with ${r.alg} but no ${r.alg} key is configured (add it under signing.keys)`);
  });
  return issues;
}
