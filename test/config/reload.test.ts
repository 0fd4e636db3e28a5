import { describe, expect, it } from 'vitest';
import { reloadIssues, startOnlyChanges } from '../../src/config/reload.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { RiskstreamError } from '../../src/errors.js';

const parse = (o: object) => riskstreamSchema.parse(o);

describe('startOnlyChanges', () => {
  it.each([
    ['nothing changed', {}, {}, []],
    ['a reloadable setting (behaviors-side state limits, tokens)', {}, { state: { max_logins: 3 }, http: { admin_tokens: ['x'.repeat(16)] } }, []],
    ['the SSF management rate limit (read at every call)', {}, { ssf: { limits: { changes_per_second: 1, changes_burst: 5 } } }, []],
    ['the prefix', {}, { redis: { prefix: 'other' } }, ['redis']],
    ['a Redis password: named, never quoted', { redis: { url: 'redis://:a@127.0.0.1:6379' } }, { redis: { url: 'redis://:b@127.0.0.1:6379' } }, ['redis']],
    ['port, lru and partitions', {}, { http: { port: 9090 }, state: { lru_size: 5 }, engine: { partitions: 8 } }, ['engine', 'http.port', 'state.lru_size']],
    ['an input stream name', {}, { streams: { login: 'auth' } }, ['streams.login']],
  ])('%s', (_n, running, next, expected) => {
    const changed = startOnlyChanges(parse(running), parse(next));
    expect(changed).toEqual(expected);
    expect(JSON.stringify(changed)).not.toMatch(/:b@|:a@/);
  });
});

describe('reloadIssues', () => {
  it('lists a refused configuration as file:line:col message', () => {
    const err = new RiskstreamError('CONFIG_INVALID', 'invalid configuration', {
      issues: [{ file: '/etc/rs/behaviors.yaml', line: 4, col: 15, message: 'impossible_travel.risk_level: must be one of low, medium, high' }],
    });
    expect(reloadIssues(err)).toEqual(['/etc/rs/behaviors.yaml:4:15 impossible_travel.risk_level: must be one of low, medium, high']);
  });

  it("takes any other error's first line", () => {
    expect(reloadIssues(new Error('EACCES: permission denied\n    at open'))).toEqual(['EACCES: permission denied']);
  });
});
