import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRiskstreamError } from '../../src/errors.js';
import { defineScripts, queueScript, SCRIPTS_DIR, scriptsOn } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('Lua scripts as files', () => {
  const files = readdirSync(SCRIPTS_DIR);

  it('each is <name>-<numKeys>.lua (`-n`: variable keys) with a KEYS/ARGV header matching what its body uses', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
    for (const f of files) {
      const m = /^[a-z]+(?:-[a-z]+)*-(\d+|n)\.lua$/.exec(f);
      expect(m, f).not.toBeNull();
      if (m![1] === 'n') {
        // Variable keys: the header says how they are numbered, and the body indexes KEYS by expression,
        // or by a fixed index only for the keys the header names so (always given: engine-commit-n's first two).
        const lua = readFileSync(join(SCRIPTS_DIR, f), 'utf8');
        const head = /^--\[\[([\s\S]*?)\]\]\n/.exec(lua)?.[1] ?? '';
        for (const word of [/Input/, /numkeys/, /Output:/, /KEYS\[/, /ARGV\[1\]/]) expect(head, f).toMatch(word);
        for (const k of lua.slice(lua.indexOf(']]')).matchAll(/KEYS\[(\d+)\]/g))
          expect(head, `${f}: fixed KEYS[${k[1]}] documented`).toContain(`KEYS[${k[1]}] `);
        continue;
      }
      const numKeys = Number(m![1]);
      const lua = readFileSync(join(SCRIPTS_DIR, f), 'utf8');
      const header = /^--\[\[([\s\S]*?)\]\]\n/.exec(lua);
      expect(header, `${f}: header`).not.toBeNull();
      const [head, body] = [header![1]!, lua.slice(header![0].length)];
      expect(head, f).toMatch(/Input:/);
      expect(head, f).toMatch(/Output:/);
      const declared = new Set([...head.matchAll(/KEYS\[(\d+)\]/g)].map((k) => Number(k[1])));
      expect([...declared].sort(), `${f}: KEYS in the header`).toEqual(Array.from({ length: numKeys }, (_, i) => i + 1));
      const used = [...body.matchAll(/KEYS\[(\d+)\]/g)].map((k) => Number(k[1]));
      expect(Math.max(...used), `${f}: KEYS used`).toBe(numKeys);
      for (const a of body.matchAll(/ARGV\[(\d+)\]/g)) expect(head, `${f}: ARGV[${a[1]}] documented`).toContain(`ARGV[${a[1]}`);
    }
  });

  it('no Lua left in TypeScript, one loader calls them all', () => {
    const offenders = tsFiles('src')
      .filter((p) => !p.endsWith(join('redis', 'scripts.ts')))
      .filter((p) => /redis\.call\(|\.eval\(|\.evalsha\(|defineCommand\(/.test(readFileSync(p, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('script loader (real Redis)', () => {
  const prefix = testPrefix('scripts');
  let redis: Redis;
  beforeAll(() => {
    redis = redisClient();
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('calls a script on a connection and queued on a pipeline, typed', async () => {
    const s = scriptsOn(redis);
    expect(scriptsOn(redis)).toBe(s); // defined once per connection
    expect(await s.heldPush(`${prefix}:held`, 2, 'a', 'b', 'c')).toBe(1);
    expect(await redis.lrange(`${prefix}:held`, 0, -1)).toEqual(['b', 'c']);
    await redis.rpush(`${prefix}:list`, 'x', 'y');
    const p = redis.pipeline();
    queueScript(p, 'listBridge', `${prefix}:list`, `${prefix}:in`, 10);
    expect(await p.exec()).toEqual([[null, [2, 0]]]);
    expect(await redis.xlen(`${prefix}:in`)).toBe(2);
  });

  it('a pipeline made before the scripts were defined on its connection is refused (INTERNAL)', () => {
    const fresh = redisClient();
    try {
      const p = fresh.pipeline();
      let caught: unknown;
      try {
        queueScript(p, 'lockRelease', `${prefix}:lock`, 'token');
      } catch (e) {
        caught = e;
      }
      expect(isRiskstreamError(caught, 'INTERNAL')).toBe(true);
      defineScripts(fresh);
      expect(() => queueScript(fresh.pipeline(), 'lockRelease', `${prefix}:lock`, 'token')).not.toThrow();
    } finally {
      fresh.disconnect();
    }
  });
});
