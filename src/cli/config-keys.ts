import { existsSync } from 'node:fs';
import { configPath, type Config, type ConfigIssue } from '../config/load.js';
import { locate, parseFile, type Parsed } from '../config/yaml-source.js';
import { isRiskstreamError } from '../errors.js';
import { loadPublicJwk } from '../ssf/jwks.js';
import { KidRegistry, receiverKeyProblem, signingKeySpecs, withdrawnSignerProblem } from '../ssf/key-ring.js';
import type { JWK } from 'jose';
import { loadSigningKey } from '../ssf/keys.js';
import { implicitKeySpecs } from '../ssf/implicit-keys.js';

/**
 * What the worker would refuse at start about signing keys (`KeyRing.fromConfig`), as config
 * issues (`config check`): key files that cannot be read or parsed, and enabled receivers signing
 * with an alg that has no key. A missing `signing.key_file` ending in `.pem` is no issue: the
 * worker generates it; nor is a missing implicit key (src/ssf/implicit-keys.ts), checked as any
 * other key when it exists. Messages name files, never key material.
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
  const kids = new KidRegistry();
  const named = (jwk: JWK, path: PropertyKey[], label = path.join('.')): void => {
    try {
      kids.add(jwk, label);
    } catch (err) {
      if (!isRiskstreamError(err)) throw err;
      issue(path, err.message);
    }
  };
  const configured = signingKeySpecs(s);
  for (const [i, spec] of [...configured, ...implicitKeySpecs(c)].entries()) {
    const file = configPath(c, spec.key_file);
    // The main key and the implicit ones (after the configured keys) are generated when missing.
    if ((i === 0 || i >= configured.length) && !existsSync(file) && file.endsWith('.pem')) {
      algs.add(spec.alg); // generated at the worker's first start
      continue;
    }
    const { label } = spec;
    try {
      const key = await loadSigningKey(file, spec.alg, spec.kid);
      // The first key of an alg signs (as KeyRing.fromConfig checks it).
      const withdrawn = algs.has(key.alg) ? undefined : withdrawnSignerProblem(key, s.withdrawn_kids);
      if (withdrawn) issue(spec.path, `${label}: ${withdrawn}`);
      algs.add(key.alg);
      named(key.publicJwk, spec.path, label);
    } catch (err) {
      if (!isRiskstreamError(err)) throw err;
      issue(spec.path, `${label}: ${err.message}`);
    }
  }
  for (const [i, file] of s.previous_public_keys.entries()) {
    try {
      named(await loadPublicJwk(configPath(c, file)), ['signing', 'previous_public_keys', i]);
    } catch (err) {
      if (!isRiskstreamError(err)) throw err;
      issue(['signing', 'previous_public_keys', i], `signing.previous_public_keys[${i}]: ${err.message}`);
    }
  }
  for (const r of c.receivers) {
    const problem = receiverKeyProblem(r, (alg) => algs.has(alg));
    // Its place in the file (receivers with other problems are left out of c.receivers).
    const i = c.raw.receivers.findIndex((x) => x.name === r.name);
    if (problem) issue(['receivers', i], `receivers[${i}] (${r.name}): ${problem}`);
  }
  return issues;
}
