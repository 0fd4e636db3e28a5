import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keptNote, runDemo } from '../../src/cli/demo.js';
import { purgePrefix } from '../../src/redis/purge.js';

const root = mkdtempSync(join(tmpdir(), 'rs-demo-keep-'));
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
let prefix = '';

afterAll(async () => {
  if (prefix) await purgePrefix(redis, prefix);
  redis.disconnect();
  rmSync(root, { recursive: true, force: true });
});

describe('riskstream demo --keep says what it left (found by a black-box review)', () => {
  it('names the kept prefix, the configuration that reads it and how to delete the keys', async () => {
    mkdirSync(join(root, 'config'));
    copyFileSync(resolve('config/behaviors.yaml'), join(root, 'config', 'behaviors.yaml'));
    const telemetry = join(root, 'telemetry.ndjson');
    const event = {
      type: 'endpoint',
      user: 'kim@example.com',
      time: new Date().toISOString(),
      device: { id: 'd-1' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    };
    writeFileSync(telemetry, `${JSON.stringify(event)}\n`);
    let text = '';
    const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    const code = await runDemo({ root, telemetry, out, keep: true });
    prefix = /key prefix (demo-[a-z0-9]+)/.exec(text)?.[1] ?? '';
    expect(code).toBe(0);
    expect(prefix).not.toBe('');
    const dir = join(root, '.demo');
    expect(text).toContain(`--keep: the demo's keys stay in Redis under the prefix ${prefix}; its configuration is in ${dir}`);
    expect(text).toContain(`npx riskstream risk list --config ${dir}`);
    expect(await redis.exists(`${prefix}:audit`)).toBe(1);
  }, 60_000);

  it('with its own throw-away redis-server nothing can be kept, and it says so', () => {
    expect(keptNote('demo-x', '/r/.demo', true)).toBe("--keep: nothing kept: the demo's own redis-server (no persistence) stopped with it\n");
    expect(keptNote('demo-x', '/r/.demo', false)).toContain("redis-cli --scan --pattern '*demo-x*' | xargs -r redis-cli unlink");
  });
});
