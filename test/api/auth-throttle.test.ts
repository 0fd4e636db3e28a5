/**
 * The failed-authentication throttle, pure on a frozen clock: an address is refused once it reached
 * the limit within the window, for the block; others are not; a success never clears the count; the
 * table of addresses stays within its capacity; IPv6 addresses count by their /64.
 */
import { describe, expect, it } from 'vitest';
import { AuthThrottle, clientKey } from '../../src/api/auth-throttle.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import Fastify from 'fastify';

const limits = { limit: 3, windowMs: 60_000, blockMs: 300_000 };

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('AuthThrottle', () => {
  it('refuses an address from its limit-th failure within the window, for the block, then forgets it', () => {
    const c = clock();
    const th = new AuthThrottle(() => limits, c.now);
    expect(th.fail('10.0.0.1')).toBe(false);
    expect(th.fail('10.0.0.1')).toBe(false);
    expect(th.retryAfter('10.0.0.1')).toBeUndefined();
    expect(th.fail('10.0.0.1')).toBe(true);
    expect(th.retryAfter('10.0.0.1')).toBe(300);
    expect(th.retryAfter('10.0.0.2')).toBeUndefined();
    c.advance(299_001);
    expect(th.retryAfter('10.0.0.1')).toBe(1);
    c.advance(999);
    expect(th.retryAfter('10.0.0.1')).toBeUndefined();
    // A fresh window after the block: one failure is not a refusal.
    expect(th.fail('10.0.0.1')).toBe(false);
    expect(th.retryAfter('10.0.0.1')).toBeUndefined();
  });

  it('counts within the window only; limit 0 never refuses', () => {
    const c = clock();
    const th = new AuthThrottle(() => limits, c.now);
    th.fail('a');
    th.fail('a');
    c.advance(60_000);
    expect(th.fail('a')).toBe(false);
    expect(th.retryAfter('a')).toBeUndefined();
    const off = new AuthThrottle(() => ({ ...limits, limit: 0 }), c.now);
    for (let i = 0; i < 10; i++) expect(off.fail('a')).toBe(false);
    expect(off.size).toBe(0);
  });

  it('keeps at most its capacity of addresses (the oldest failure forgotten first)', () => {
    const c = clock();
    const th = new AuthThrottle(() => limits, c.now, 100);
    for (let i = 0; i < 1000; i++) th.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(th.size).toBe(100);
    // Stale entries go as new failures come.
    c.advance(60_000);
    th.fail('192.0.2.1');
    expect(th.size).toBe(1);
  });

  it('counts IPv6 by /64 and an IPv4-mapped address as its IPv4 address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:bbbb::2'));
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('http.auth_failures and http.trust_proxy (riskstream.yaml)', () => {
  const http = (h: Record<string, unknown>) => riskstreamSchema.safeParse({ http: h });

  it('default to 20 unknown tokens a minute, a 5 minute block, and no proxy believed', () => {
    const d = riskstreamSchema.parse({}).http;
    expect(d.auth_failures).toEqual({ limit: 20, window: 60_000, block: 300_000 });
    expect(d.trust_proxy).toEqual([]);
  });

  it('refuse what would not throttle as written', () => {
    for (const bad of [{ limit: -1 }, { limit: 1.5 }, { window: '0s' }, { block: '0s' }, { block: 300 }, { limt: 3 }]) {
      expect(http({ auth_failures: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(http({ auth_failures: { limit: 0 } }).success).toBe(true);
  });

  it('take addresses, CIDRs and the named ranges as proxies, nothing else', () => {
    expect(http({ trust_proxy: ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32', 'loopback', 'uniquelocal'] }).success).toBe(true);
    for (const bad of [['lb.example.com'], ['10.0.0.0/33'], [true], ['*'], ['[::1]'], ['010.0.0.0/8'], ['10.0.0.0/255.0.0.0']])
      expect(http({ trust_proxy: bad }).success, JSON.stringify(bad)).toBe(false);
    // What is taken, the server takes too (proxy-addr throws at construction on what it cannot parse).
    expect(() => Fastify({ trustProxy: ['10.0.0.0/8', '192.0.2.1', '::1', '2001:db8::/32', 'loopback', 'linklocal', 'uniquelocal'] })).not.toThrow();
  });
});
