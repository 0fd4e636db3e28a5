/**
 * A reload refused over its signing keys — a key file that cannot be read, a public JWK that is not
 * one, an enabled receiver whose (implicit) key for its alg is no key — reports where the mistake is, as any other
 * (docs/operations.md: the log and `config.reload_refused` list `file:line:col message`, as `config
 * check` does). Found by a review of hot reload: such a refusal carried the key error alone
 * (KEY_NOT_FOUND / KEY_INVALID, no position), so its audit entry and log named no line of
 * riskstream.yaml, unlike `config check` on the same files.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { inProcessWorker } from '../helpers/worker.js';
import { isRiskstreamError } from '../../src/errors.js';
import type { ConfigIssue } from '../../src/config/load.js';

const h = inProcessWorker('reload-key-issues');

/** The 1-based line and column of the first occurrence of `text` in `file`. */
function position(file: string, text: string): { line: number; col: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return { line: line + 1, col: lines[line]!.indexOf(text) + 1 };
}

const refusedIssues = async (): Promise<string[]> => {
  const entries = await h.redis.xrange(h.keys.auditStream, '-', '+');
  const last = entries.filter(([, f]) => f.includes('config.reload_refused')).at(-1)!;
  return (JSON.parse(last[1][last[1].indexOf('details') + 1]!) as { issues: string[] }).issues;
};

describe('a reload refused over its signing keys', () => {
  it('names the setting’s file, line and column (error, audit entry), and a later valid reload applies', async () => {
    const worker = await h.start({});
    const dir = worker.config().dir;
    const file = join(dir, 'riskstream.yaml');
    const original = readFileSync(file, 'utf8');
    const cfg = parse(original) as Record<string, Record<string, unknown>>;
    const cases: Array<{ edit: Record<string, unknown>; at: string }> = [
      { edit: { signing: { ...cfg.signing, previous_public_keys: ['keys/missing.jwk.json'] } }, at: 'keys/missing.jwk.json' },
      { edit: { signing: { ...cfg.signing, key_file: 'keys/missing.pem' } }, at: 'keys/missing.pem' },
      // Its implicit RS256 key (keys/signing.rs256.pem, src/ssf/implicit-keys.ts) there, but no key.
      { edit: { receivers: [{ name: 'rs', kind: 'ssf', endpoint: 'https://rx.example/rs', alg: 'RS256' }] }, at: 'name: rs' },
    ];
    const implicit = join(dir, 'keys', 'signing.rs256.pem');
    writeFileSync(implicit, 'not a key\n');
    for (const c of cases) {
      writeFileSync(file, stringify({ ...cfg, ...c.edit }));
      const want = { file, ...position(file, c.at) };
      const err = await worker.reload().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRiskstreamError(err, 'CONFIG_INVALID'), String(err)).toBe(true);
      const issues = (isRiskstreamError(err) ? err.details?.issues : []) as ConfigIssue[];
      expect(issues.map(({ file, line }) => ({ file, line }))).toEqual([{ file: want.file, line: want.line }]);
      expect((await refusedIssues())[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${want.line}:\\d+ `));
    }
    expect(worker.config().receivers).toEqual([]);
    // A later valid change applies.
    writeFileSync(file, original);
    await worker.reload();
    expect(worker.config().raw.signing.previous_public_keys).toEqual([]);
    // A reload adding an okta receiver (RS256) with no RS256 key anywhere: its implicit key is
    // generated (as at a first start), published, and the reload applies.
    rmSync(implicit);
    writeFileSync(file, stringify({ ...cfg, receivers: [{ name: 'okta', kind: 'okta', org_url: 'https://example.okta.com' }] }));
    await worker.reload();
    expect(worker.config().receivers.map((r) => [r.name, r.alg])).toEqual([['okta', 'RS256']]);
    const { kid } = JSON.parse(readFileSync(join(dir, 'keys', 'signing.rs256.jwk.json'), 'utf8')) as { kid: string };
    const jwks = (await (await fetch(`${worker.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; alg: string }> };
    expect(jwks.keys.map((k) => [k.kid, k.alg])).toContainEqual([kid, 'RS256']);
  }, 60_000);
});
