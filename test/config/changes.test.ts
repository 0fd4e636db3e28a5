import { describe, expect, it } from 'vitest';
import { configChanges } from '../../src/config/changes.js';
import type { Config } from '../../src/config/load.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { behavior as real } from '../helpers/behavior-config.js';

const rx = (name: string, extra: Partial<ResolvedReceiver> = {}): ResolvedReceiver =>
  ({
    name,
    kind: 'ssf',
    endpoint: 'https://rx.example/ssf',
    audience: 'https://rx.example',
    events: ['risk-level-change'],
    alg: 'ES256',
    ...extra,
  }) as ResolvedReceiver;
const behavior = (id: string, extra: Record<string, unknown> = {}): BehaviorConfig =>
  ({ id, kind: 'threshold', enabled: true, risk_level: 'medium', ...extra }) as unknown as BehaviorConfig;
const config = (behaviors: BehaviorConfig[], receivers: ResolvedReceiver[]): Pick<Config, 'behaviors' | 'receivers'> => ({ behaviors, receivers });

describe('configChanges (what a reload changed, for its audit entry)', () => {
  it('nothing changed: empty', () => {
    const c = config([behavior('a')], [rx('r', { authorizationValue: 'Bearer s3cret' })]);
    expect(configChanges(c, structuredClone(c))).toEqual({});
  });

  it('a behavior changed: its keys in behaviors.yaml that changed, by name (found by a review: the audit said `params`)', () => {
    const yaml = (o: Record<string, unknown>) => real('brute_force', { risk_level: 'high', failures: 10, window: '10m', ...o });
    const prev = config([yaml({})], []);
    expect(configChanges(prev, config([yaml({ failures: 1000 })], []))).toEqual({
      behaviors: { added: [], removed: [], changed: { brute_force: ['failures'] } },
    });
    expect(configChanges(prev, config([yaml({ risk_level: 'low', enabled: false })], []))).toEqual({
      behaviors: { added: [], removed: [], changed: { brute_force: ['enabled', 'risk_level'] } },
    });
    expect(configChanges(prev, config([yaml({ expires_after: '1h', window: '1h' })], []))).toEqual({
      behaviors: { added: [], removed: [], changed: { brute_force: ['expires_after', 'window'] } },
    });
  });

  it('behaviors added, removed and changed, with the fields that changed', () => {
    const prev = config([behavior('a'), behavior('b'), behavior('c', { params: { count: 5 } })], []);
    const next = config([behavior('a', { risk_level: 'high', enabled: false }), behavior('c', { params: { count: 6 } }), behavior('d')], []);
    expect(configChanges(prev, next)).toEqual({ behaviors: { added: ['d'], removed: ['b'], changed: { a: ['enabled', 'risk_level'], c: ['count'] } } });
  });

  it("a receiver's rotated credential is named, never shown", () => {
    const prev = config([], [rx('okta', { authorizationValue: 'Bearer old-s3cret-token' }), rx('gone')]);
    const next = config([], [rx('okta', { authorizationValue: 'Bearer new-s3cret-token' }), rx('new', { endpoint: 'https://new.example/ssf' })]);
    const changes = configChanges(prev, next);
    expect(changes).toEqual({ receivers: { added: ['new'], removed: ['gone'], changed: { okta: ['authorization'] } } });
    expect(JSON.stringify(changes)).not.toContain('s3cret');
  });

  it('a credential changed in the config and so in the resolved header is named once (found by a black-box review)', () => {
    const prev = config([], [rx('okta', { authorization: 'Bearer ${OLD}', authorizationValue: 'Bearer old-s3cret', audience: 'https://a.example' })]);
    const next = config([], [rx('okta', { authorization: 'Bearer ${NEW}', authorizationValue: 'Bearer new-s3cret', audience: 'https://b.example' })]);
    expect(configChanges(prev, next)).toEqual({ receivers: { added: [], removed: [], changed: { okta: ['audience', 'authorization'] } } });
  });

  it('a signing key rotated or withdrawn, and tokens added or removed, are named and counted, never shown (found by a review: the audit entry recorded neither)', () => {
    const signing = (o: Record<string, unknown> = {}) => ({
      key_file: 'keys/a.pem',
      alg: 'ES256',
      kid: 'k1',
      keys: [],
      previous_public_keys: [],
      withdrawn_kids: [],
      ...o,
    });
    const full = (sign: Record<string, unknown>, tokens: Partial<Record<'adminTokens' | 'ingestTokens' | 'ssfTokens' | 'metricsTokens', string[]>>) =>
      ({ ...config([], []), raw: { signing: sign }, adminTokens: [], ingestTokens: [], ssfTokens: [], metricsTokens: [], ...tokens }) as unknown as Config;
    const prev = full(signing(), { adminTokens: ['admin-s3cret-token-1'], ssfTokens: ['ssf-s3cret-token-aaaa', 'ssf-s3cret-token-bbbb'] });
    expect(
      configChanges(prev, full(signing(), { adminTokens: ['admin-s3cret-token-1'], ssfTokens: ['ssf-s3cret-token-bbbb', 'ssf-s3cret-token-aaaa'] })),
    ).toEqual({});
    const next = full(signing({ key_file: 'keys/b.pem', kid: 'k2', previous_public_keys: ['keys/a.jwk'], withdrawn_kids: ['k0'] }), {
      adminTokens: ['admin-s3cret-token-2'],
      ssfTokens: ['ssf-s3cret-token-bbbb'],
      metricsTokens: ['metrics-s3cret-token'],
    });
    const changes = configChanges(prev, next);
    expect(changes).toEqual({
      signing: ['key_file', 'kid', 'previous_public_keys', 'withdrawn_kids'],
      tokens: { admin: { added: 1, removed: 1 }, ssf: { added: 0, removed: 1 }, metrics: { added: 1, removed: 0 } },
    });
    expect(JSON.stringify(changes)).not.toContain('s3cret');
  });
});
