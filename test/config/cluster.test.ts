/** `redis.cluster` (CONTRACT §3): startup nodes, REDIS_URL wins, and what `config check` refuses on a cluster. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isRiskstreamError } from '../../src/errors.js';

const dirs: string[] = [];
function dirWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-cluster-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'riskstream.yaml'), yaml);
  return dir;
}
function issues(dir: string): Array<{ line: number; col: number; message: string }> {
  try {
    loadConfig(dir, {});
    return [];
  } catch (err) {
    if (isRiskstreamError(err, 'CONFIG_INVALID')) return err.details!.issues as Array<{ line: number; col: number; message: string }>;
    throw err;
  }
}

function messages(dir: string): string[] {
  return issues(dir).map((i) => i.message);
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('redis.cluster', () => {
  const CLUSTER = 'redis:\n  cluster: [redis://10.0.0.1:7000, redis://10.0.0.2:7000]\n';

  it('gives the startup nodes; without it (or with REDIS_URL) one node', () => {
    expect(loadConfig(dirWith(CLUSTER), {}).redisCluster).toEqual(['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000']);
    expect(loadConfig(dirWith(CLUSTER), { REDIS_URL: 'redis://127.0.0.1:6390' })).toMatchObject({ redisCluster: null, redisUrl: 'redis://127.0.0.1:6390' });
    expect(loadConfig(dirWith('redis:\n  url: redis://127.0.0.1:6379\n'), {}).redisCluster).toBeNull();
  });

  it('refuses an empty list and a node that is not redis://host:port', () => {
    expect(messages(dirWith('redis:\n  cluster: []\n')).join('\n')).toMatch(/cluster/);
    expect(messages(dirWith('redis:\n  cluster: [http://10.0.0.1:7000]\n')).join('\n')).toMatch(/redis:\/\/host:port/);
  });

  it('refuses a bridged list and stream in different slots on a cluster (and says how to tag them); one node does not care', () => {
    const bad = 'bridge:\n  lists:\n    shipper:list: riskstream:login\n';
    expect(messages(dirWith(CLUSTER + bad)).join('\n')).toMatch(/must share a hash slot.*\{shipper\}/);
    expect(messages(dirWith(bad))).toEqual([]);
    expect(messages(dirWith(CLUSTER + 'streams:\n  extra: ["{shipper}:events"]\nbridge:\n  lists:\n    "{shipper}:list": "{shipper}:events"\n'))).toEqual([]);
  });

  it('refuses an input stream name with braces but no hash tag on a cluster (its fence key could not share its slot)', () => {
    expect(messages(dirWith(CLUSTER + 'streams:\n  login: "a{}b"\n')).join('\n')).toMatch(/needs a hash tag/);
    // Reported at the setting (config check prints file:line:col), not at the file's start (found by a black-box review).
    expect(issues(dirWith(CLUSTER + 'streams:\n  login: "{rs}:login"\n  extra: [ok, "x{}y"]\n'))).toEqual([
      expect.objectContaining({ line: 5, message: expect.stringMatching(/x\{\}y/) }),
    ]);
    expect(messages(dirWith(CLUSTER + 'streams:\n  login: "{rs}:login"\n'))).toEqual([]);
  });

  it('redis.wait_replicas defaults to 0 (the master acknowledges), wait_timeout to 1 s', () => {
    expect(loadConfig(dirWith(CLUSTER), {}).raw.redis).toMatchObject({ wait_replicas: 0, wait_timeout: 1000 });
  });
});
