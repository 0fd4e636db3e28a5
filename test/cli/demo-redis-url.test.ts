import { describe, expect, it } from 'vitest';
import { withoutCredentials } from '../../src/cli/demo.js';
import { runInProcess } from './in-process.js';

describe('riskstream demo never prints the Redis password (found by a black-box review)', () => {
  it('a REDIS_URL that does not answer is named without its user:password', async () => {
    const before = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://default:demo-redis-secret-0123@127.0.0.1:1';
    try {
      const r = await runInProcess(['demo']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('REDIS_URL redis://[redacted]@127.0.0.1:1 does not answer');
      expect(r.stdout + r.stderr).not.toContain('demo-redis-secret');
    } finally {
      if (before === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = before;
    }
  });

  it('withoutCredentials: user, password or both (a raw @ in it too); URLs without any unchanged', () => {
    expect(withoutCredentials('redis://default:pw@127.0.0.1:6390')).toBe('redis://[redacted]@127.0.0.1:6390');
    expect(withoutCredentials('rediss://:pw@redis.internal:6380/2')).toBe('rediss://[redacted]@redis.internal:6380/2');
    expect(withoutCredentials('redis://user@h')).toBe('redis://[redacted]@h');
    expect(withoutCredentials('redis://u:p@ss@h:1/0')).toBe('redis://[redacted]@h:1/0');
    expect(withoutCredentials('u:pw@h:6379')).toBe('[redacted]@h:6379');
    for (const plain of ['redis://127.0.0.1:6379', '/run/redis/redis.sock', 'redis://h:1/0']) expect(withoutCredentials(plain)).toBe(plain);
  });
});
