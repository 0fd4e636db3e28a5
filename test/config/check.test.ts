import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../cli/run.js';
import { BROKEN_BEHAVIORS, BROKEN_MAIN } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'riskstream-check-'));
writeFileSync(join(dir, 'riskstream.yaml'), BROKEN_MAIN);
writeFileSync(join(dir, 'behaviors.yaml'), BROKEN_BEHAVIORS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('riskstream config check', () => {
  it('prints `file:line:col message` per issue and exits 1; exits 0 on the shipped config/', async () => {
    const [bad, good] = await Promise.all([runCli(['config', 'check', '--config', dir]), runCli(['config', 'check', '--config', join(ROOT, 'config')])]);

    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${dir}/riskstream.yaml:3:3 unknown key "redis.urll"`,
      expect.stringMatching(new RegExp(`^${dir}/riskstream\\.yaml:5:9 http\\.port: `)),
      `${dir}/riskstream.yaml:7:10 streams.block: must be a duration like 30s, 5m, 24h or 7d`,
      expect.stringMatching(new RegExp(`^${dir}/riskstream\\.yaml:8:9 issuer: `)),
      `${dir}/behaviors.yaml:4:15 impossible_travel.risk_level: must be one of low, medium, high`,
      `${dir}/behaviors.yaml:9:11 dlp_detection.window: must be a duration like 30s, 5m, 24h or 7d`,
      `${dir}/behaviors.yaml:10:3 unknown key "dlp_detection.colour"`,
      expect.stringMatching(new RegExp(`^${dir}/behaviors\\.yaml:11:1 unknown behavior "teleportation"`)),
    ]);
    expect(bad.stdout).toBe('');

    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^ok: /);
    expect(good.stdout).toContain('impossible_travel(high)');
  });

  it('RISKSTREAM_ADMIN_TOKEN=a: config check and the worker refuse it (exit 1, the variable named, not its value)', async () => {
    const env = { RISKSTREAM_ADMIN_TOKEN: 'a', RISKSTREAM_INGEST_TOKEN: '', REDIS_URL: 'redis://127.0.0.1:1' };
    const [check, worker] = await Promise.all([
      runCli(['config', 'check', '--config', join(ROOT, 'config')], { env }),
      runCli(['worker', '--config', join(ROOT, 'config')], { env, timeoutMs: 25_000 }),
    ]);
    for (const r of [check, worker]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/RISKSTREAM_ADMIN_TOKEN: tokens must be at least 16 characters/);
    }
  }, 30_000);
});
