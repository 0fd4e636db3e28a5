import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, shippedBehaviorsFile, type ConfigIssue } from '../../src/config/load.js';
import { isRiskstreamError } from '../../src/errors.js';
import { BROKEN_BEHAVIORS, BROKEN_MAIN } from './fixtures.js';
import { applyContextOf, retentionOf } from '../../src/runtime/apply-context.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NO_ENV: NodeJS.ProcessEnv = {};
const dirs: string[] = [];

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-config-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function issuesOf(path: string): ConfigIssue[] {
  try {
    loadConfig(path, NO_ENV);
  } catch (err) {
    if (isRiskstreamError(err, 'CONFIG_INVALID')) return err.details!.issues as ConfigIssue[];
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

/** Issues as `file:line:col message`, with the directory stripped. */
const lines = (issues: ConfigIssue[]): string[] => issues.map((i) => `${i.file.slice(i.file.lastIndexOf('/') + 1)}:${i.line}:${i.col} ${i.message}`);

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('an empty directory gives every default; durations are numbers of milliseconds', () => {
    const c = loadConfig(configDir({}), NO_ENV);
    expect(c.raw.streams).toMatchObject({
      block: 1000,
      claim_idle: 60_000,
      input_retention: 7 * 86_400_000,
      batch_size: 2000,
      max_lag: 100_000,
      group: 'riskstream',
    });
    expect(c.raw.state).toMatchObject({ login_max_age: 7 * 86_400_000, allowed_lateness: 600_000, sweep_interval: 1000, max_logins: 10 });
    expect(c.raw.delivery).toMatchObject({ horizon: 86_400_000, backoff_base: 1000, backoff_max: 600_000, invalid_key_retry: 0, concurrency: 64 });
    expect(c.raw.sessions.default_lifetime).toBe(12 * 3_600_000);
    expect(c.raw.bridge.interval).toBe(200);
    expect(c.raw.http).toMatchObject({ port: 8080, host: '0.0.0.0', body_limit: 16 * 1024 * 1024, admin_tokens: [], ingest_tokens: [] });
    expect(c.streams).toMatchObject({
      login: 'riskstream:login',
      activity: 'riskstream:activity',
      deadLetter: 'riskstream:dead-letter',
      riskEvents: 'riskstream:risk-events',
      audit: 'riskstream:audit',
      group: 'riskstream',
    });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    // No behaviors.yaml: the shipped defaults (config/behaviors.yaml), not no detection at all.
    expect(c.shippedBehaviors).toBe(true);
    expect(c.files).toContain(shippedBehaviorsFile());
    expect(c.behaviors.filter((b) => b.enabled).map((b) => b.id)).toEqual(expect.arrayContaining(['impossible_travel', 'dlp_detection', 'endpoint_detection']));
    expect(c.behaviors).toEqual(loadConfig(join(ROOT, 'config', 'behaviors.yaml'), NO_ENV).behaviors);
    const own = loadConfig(configDir({ 'behaviors.yaml': 'impossible_travel:\n  enabled: true\n  risk_level: medium\n' }), NO_ENV);
    expect(own.shippedBehaviors).toBe(false);
    expect(own.behaviors.map((b) => b.id)).toEqual(['impossible_travel']);
    for (const v of [c.raw.streams.block, c.raw.streams.claim_idle, c.raw.state.sweep_interval, c.raw.delivery.horizon]) expect(typeof v).toBe('number');
  });

  it('behavior and receiver durations are milliseconds too; `never` is null', () => {
    const c = loadConfig(
      configDir({
        'riskstream.yaml': 'receivers:\n  - { name: rx, kind: ssf, endpoint: "https://rx.example.com/events" }\n',
        'behaviors.yaml':
          'dlp_detection:\n  enabled: true\n  risk_level: medium\nendpoint_detection:\n  risk_level: high\n  expires_after: never\nbursts:\n  kind: threshold\n  risk_level: low\n  match: { type: dlp }\n  count: 3\n  window: 90s\n  expires_after: 1.5h\n',
      }),
      NO_ENV,
    );
    const b = Object.fromEntries(c.behaviors.map((x) => [x.id, x]));
    expect(b.dlp_detection).toMatchObject({ enabled: true, expires_after: 86_400_000, params: { window: 60_000, count: 1, min_severity: 'high' } });
    expect(b.endpoint_detection).toMatchObject({ enabled: true, expires_after: null }); // listed without `enabled`: on
    expect(b.bursts).toMatchObject({ kind: 'threshold', expires_after: 5_400_000, params: { window: 90_000, count: 3 } });
    expect(c.receivers[0]).toMatchObject({ name: 'rx', timeout: 10_000, audience: 'https://rx.example.com/events', alg: 'ES256', subject_format: 'email' });
    expect(c.receivers[0]!.events).toEqual(['risk-level-change', 'session-revoked', 'verification']);
  });

  it("a threshold's match literals are loaded spelled as ingest stores their fields (geo.country: gb → GB), once", () => {
    const c = loadConfig(
      configDir({
        'behaviors.yaml':
          'gb_denied:\n  kind: threshold\n  risk_level: low\n  match: { geo.country: gb, network.asn: { in: [AS2856, "AS 13"] }, outcome: Allowed, type: { in: [LOGIN] }, geo.city: { regex: "^lon" }, mfa: true, host: " H1 " }\n  count: 3\n  window: 1m\n',
      }),
      NO_ENV,
    );
    expect(c.behaviors.find((b) => b.id === 'gb_denied')!.params.match).toEqual({
      'geo.country': 'GB',
      'network.asn': { in: [2856, 'AS 13'] },
      outcome: 'success',
      type: { in: ['login'] },
      'geo.city': { regex: '^lon' },
      mfa: true,
      host: ' H1 ',
    });
  });

  it("a receiver's `events` may name the event types by their URIs (as CONTRACT §4 and SSF streams do): read as riskstream's names", () => {
    const caep = 'https://schemas.openid.net/secevent/caep/event-type';
    const c = loadConfig(
      configDir({
        'riskstream.yaml': [
          'receivers:',
          `  - { name: rev, kind: ssf, endpoint: "https://rev.example/e", events: ["${caep}/session-revoked"] }`,
          `  - { name: lvl, kind: ssf, endpoint: "https://lvl.example/e", events: ["${caep}/risk-level-change", "https://schemas.openid.net/secevent/ssf/event-type/verification"] }`,
          '  - { name: okta, kind: okta, org_url: "https://example.okta.com", events: ["https://schemas.okta.com/secevent/okta/event-type/user-risk-change"] }',
          '',
        ].join('\n'),
      }),
      NO_ENV,
    );
    expect(c.receivers.map((r) => [r.name, r.events])).toEqual([
      ['rev', ['session-revoked']],
      ['lvl', ['risk-level-change', 'verification']],
      ['okta', ['risk-level-change']],
    ]);
    const bad = issuesOf(
      configDir({ 'riskstream.yaml': `receivers:\n  - { name: x, kind: ssf, endpoint: "https://x.example/e", events: ["${caep}/credential-change"] }\n` }),
    );
    expect(bad.map((i) => [i.line, i.message.split(':')[0]])).toEqual([[2, 'receivers.0.events.0']]);
  });

  it('a receiver’s `concurrency` (sends in flight to it): as written, else none (half of delivery.concurrency at send time)', () => {
    const c = loadConfig(
      configDir({
        'riskstream.yaml':
          'receivers:\n  - { name: rx, kind: ssf, endpoint: "https://rx.example.com/events", concurrency: 3 }\n  - { name: dflt, kind: ssf, endpoint: "https://d.example.com/events" }\n',
      }),
      NO_ENV,
    );
    expect(c.receivers[0]!.concurrency).toBe(3);
    expect(c.receivers[1]!.concurrency).toBeUndefined();
  });

  it('a receiver without `alg` signs with the main signing alg (okta: RS256)', () => {
    const c = loadConfig(
      configDir({
        'riskstream.yaml':
          'signing: { alg: RS256 }\nreceivers:\n  - { name: rx, kind: ssf, endpoint: "https://rx.example.com/events" }\n  - { name: es, kind: ssf, endpoint: "https://es.example.com/events", alg: ES256 }\n  - { name: okta, kind: okta, org_url: "https://example.okta.com" }\n',
      }),
      NO_ENV,
    );
    expect(c.receivers.map((r) => [r.name, r.alg])).toEqual([
      ['rx', 'RS256'],
      ['es', 'ES256'],
      ['okta', 'RS256'],
    ]);
  });

  it('REDIS_URL overrides redis.url; RISKSTREAM_ADMIN_TOKEN / RISKSTREAM_INGEST_TOKEN add tokens', () => {
    const dir = configDir({ 'riskstream.yaml': 'redis: { url: "redis://10.0.0.1:6379" }\nhttp:\n  admin_tokens: ["file-admin-token-0123456789"]\n' });
    const c = loadConfig(dir, {
      REDIS_URL: 'redis://127.0.0.1:6390',
      RISKSTREAM_ADMIN_TOKEN: 'env-admin-token-0123456789',
      RISKSTREAM_INGEST_TOKEN: 'env-ingest-token-0123456789',
    });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6390');
    expect(c.adminTokens).toEqual(['file-admin-token-0123456789', 'env-admin-token-0123456789']);
    expect(c.ingestTokens).toEqual(['env-ingest-token-0123456789']);
  });

  it('an empty REDIS_URL is no override: redis.url stands (as for redis.cluster and the empty token variables)', () => {
    // A black-box audit: `REDIS_URL=` (a compose file's `${REDIS_URL}` unset, `Environment=REDIS_URL=`)
    // replaced redis.url with "", which ioredis reads as 127.0.0.1:6379 — another Redis than the
    // configured one, silently — while the same empty value left a redis.cluster in force.
    const dir = configDir({ 'riskstream.yaml': 'redis: { url: "redis://10.0.0.1:6379" }\n' });
    expect(loadConfig(dir, { REDIS_URL: '' }).redisUrl).toBe('redis://10.0.0.1:6379');
  });

  it("the owner's apply context carries the config's own tokens (kept out of what hits quote), one list per loaded config", () => {
    const dir = configDir({ 'riskstream.yaml': 'http:\n  admin_tokens: ["file-admin-token-0123456789"]\n' });
    const c = loadConfig(dir, { RISKSTREAM_INGEST_TOKEN: 'env-ingest-token-0123456789' });
    const ctx = applyContextOf(c, 0);
    expect(ctx.secrets).toEqual(expect.arrayContaining(['file-admin-token-0123456789', 'env-ingest-token-0123456789']));
    expect(applyContextOf(c, 1).secrets).toBe(ctx.secrets);
  });

  it("the owner's apply context carries the revoking response rules (none without such a rule) and sessions.default_lifetime (a late login's session end: an admin's revoke-all marks too)", () => {
    const behaviors = 'endpoint_detection:\n  enabled: true\n  risk_level: high\n';
    const dir = configDir({
      'riskstream.yaml': 'sessions:\n  default_lifetime: 2h\n',
      'behaviors.yaml': `${behaviors}responses:\n  - when: {level: high}\n    revoke_sessions: true\n`,
    });
    const ctx = applyContextOf(loadConfig(dir, NO_ENV), 0);
    expect(ctx.revoke).toEqual([{ when: { level: 'high' }, revoke_sessions: true }]);
    expect(ctx.sessionLifetime).toBe(2 * 3_600_000);
    const none = applyContextOf(loadConfig(configDir({ 'riskstream.yaml': 'sessions:\n  default_lifetime: 2h\n', 'behaviors.yaml': behaviors }), NO_ENV), 0);
    expect([none.revoke, none.sessionLifetime]).toEqual([undefined, 2 * 3_600_000]);
  });

  it('environment tokens are held to the 16-character minimum: a short one is CONFIG_INVALID naming the variable, never its value', () => {
    const dir = configDir({ 'riskstream.yaml': 'http:\n  admin_tokens: ["file-admin-token-0123456789"]\n' });
    for (const name of ['RISKSTREAM_ADMIN_TOKEN', 'RISKSTREAM_INGEST_TOKEN', 'RISKSTREAM_SSF_TOKEN', 'RISKSTREAM_METRICS_TOKEN']) {
      let err: unknown;
      try {
        loadConfig(dir, { [name]: 'a' });
      } catch (e) {
        err = e;
      }
      expect(isRiskstreamError(err, 'CONFIG_INVALID'), name).toBe(true);
      const issues = (err as { details: { issues: ConfigIssue[] } }).details.issues;
      expect(issues.map((i) => i.message)).toEqual([expect.stringMatching(new RegExp(`^${name}: tokens must be at least 16 characters`))]);
    }
    const secret = 'short-secret-15';
    try {
      loadConfig(dir, { RISKSTREAM_ADMIN_TOKEN: secret });
    } catch (e) {
      expect(JSON.stringify((e as Error).message)).not.toContain(secret);
    }
    // Empty means unset; 16 characters is enough.
    expect(loadConfig(dir, { RISKSTREAM_ADMIN_TOKEN: '' }).adminTokens).toEqual(['file-admin-token-0123456789']);
    const c = loadConfig(dir, { RISKSTREAM_METRICS_TOKEN: 'metrics-token-16', RISKSTREAM_SSF_TOKEN: 'ssf-token-16-chr' });
    expect(c.metricsTokens).toEqual(['metrics-token-16']);
    expect(c.ssfTokens).toEqual(['ssf-token-16-chr']);
  });

  it('a token no bearer header can carry (a secret file’s trailing newline, a space, non-ASCII) is CONFIG_INVALID, not a worker that answers 401 to it', () => {
    const dir = configDir({ 'riskstream.yaml': 'http:\n  admin_tokens: ["file-admin-token-0123456789"]\n' });
    for (const token of [
      'k8s-secret-token-0123456789\n',
      'windows-token-0123456789\r',
      'a passphrase of words here',
      'pässwörd-token-0123456789',
      '\tleading-tab-token-0123456789',
    ]) {
      let err: unknown;
      try {
        loadConfig(dir, { RISKSTREAM_ADMIN_TOKEN: token });
      } catch (e) {
        err = e;
      }
      expect(isRiskstreamError(err, 'CONFIG_INVALID'), JSON.stringify(token)).toBe(true);
      const issues = (err as { details: { issues: ConfigIssue[] } }).details.issues;
      expect(issues.map((i) => i.message)).toEqual([expect.stringMatching(/^RISKSTREAM_ADMIN_TOKEN: tokens must be printable ASCII/)]);
      expect(JSON.stringify(issues)).not.toContain(token.trim());
    }
    expect(
      lines(issuesOf(configDir({ 'riskstream.yaml': 'http:\n  ingest_tokens: ["ok-ingest-token-0123456789", "bad ingest token 0123456789"]\n' }))),
    ).toEqual([expect.stringMatching(/^riskstream\.yaml:2:49 http\.ingest_tokens\.1: tokens must be printable ASCII/)]);
    // Every printable ASCII character but the space is fine.
    expect(loadConfig(dir, { RISKSTREAM_ADMIN_TOKEN: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~' }).adminTokens).toHaveLength(2);
  });

  it('http.metrics_tokens are read and held to the minimum', () => {
    expect(loadConfig(configDir({ 'riskstream.yaml': 'http:\n  metrics_tokens: ["prometheus-token-0123456789"]\n' }), NO_ENV).metricsTokens).toEqual([
      'prometheus-token-0123456789',
    ]);
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'http:\n  metrics_tokens: ["short"]\n' })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:2:20 http\.metrics_tokens\.0: tokens must be at least 16/),
    ]);
  });

  it('engine.heartbeat must stay under 0.9 × lease_ttl (a lease renewed in time), else CONFIG_INVALID at the heartbeat', () => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'engine:\n  lease_ttl: 2s\n  heartbeat: 2s\n' })))).toEqual([
      expect.stringMatching(/engine\.heartbeat: heartbeat must be shorter than 0\.9 × lease_ttl/),
    ]);
    expect(loadConfig(configDir({ 'riskstream.yaml': 'engine:\n  lease_ttl: 2s\n  heartbeat: 500ms\n' }), NO_ENV).raw.engine).toMatchObject({
      lease_ttl: 2000,
      heartbeat: 500,
    });
  });

  it('every error in one pass: a section that fails does not hide the checks of the sections that pass (receivers, streams)', () => {
    const yaml = [
      'issuer: https://riskstream.example',
      'ssf:',
      '  allowed_endpoints: ["10.0.0.0/99"]',
      'streams:',
      '  login: same',
      '  dead_letter: same',
      'receivers:',
      '  - name: rx',
      '    kind: ssf',
      '    endpoint: ftp://rx.example/events',
      '    audience: https://rx.example',
      '',
    ].join('\n');
    const got = lines(issuesOf(configDir({ 'riskstream.yaml': yaml })));
    expect(got).toEqual([
      expect.stringMatching(/^riskstream\.yaml:3:23 ssf\.allowed_endpoints\.0: /),
      expect.stringMatching(/^riskstream\.yaml:6:16 .*dead_letter/),
      expect.stringMatching(/^riskstream\.yaml:10:15 .*endpoint/),
    ]);
    // A receiver is not judged against signing keys that failed to parse (their defaults are not the file's).
    const okta = [
      'issuer: https://riskstream.example',
      'signing:',
      '  keys: 3',
      'receivers:',
      '  - name: okta1',
      '    kind: okta',
      '    org_url: https://example.okta.com',
      '',
    ];
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': okta.join('\n') })))).toEqual([expect.stringMatching(/^riskstream\.yaml:3:9 signing\.keys: /)]);
  });

  it('a behaviors file given reads the riskstream.yaml beside it, as a riskstream.yaml given reads the behaviors.yaml beside it', () => {
    const dir = configDir({ 'riskstream.yaml': 'redis:\n  prefix: beside\n', 'behaviors.yaml': 'impossible_travel:\n  risk_level: medium\n' });
    const fromBehaviors = loadConfig(join(dir, 'behaviors.yaml'), NO_ENV);
    const fromMain = loadConfig(join(dir, 'riskstream.yaml'), NO_ENV);
    for (const c of [fromBehaviors, fromMain, loadConfig(dir, NO_ENV)]) {
      expect(c.files).toEqual([join(dir, 'riskstream.yaml'), join(dir, 'behaviors.yaml')]);
      expect(c.mainFile).toBe(join(dir, 'riskstream.yaml'));
      expect(c.prefix).toBe('beside');
      expect(c.behaviors.map((b) => `${b.id}:${b.risk_level}`)).toEqual(['impossible_travel:medium']);
    }
    // Alone, it is every setting's default (no main file read).
    const alone = loadConfig(join(configDir({ 'behaviors.yaml': 'impossible_travel:\n  risk_level: medium\n' }), 'behaviors.yaml'), NO_ENV);
    expect(alone.mainFile).toBeUndefined();
    expect(alone.prefix).toBe('riskstream');
  });

  it('the shipped config/ loads', () => {
    const c = loadConfig(join(ROOT, 'config'), NO_ENV);
    expect(c.files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['riskstream.yaml', 'behaviors.yaml']);
    expect(c.behaviors.map((b) => b.id)).toEqual(expect.arrayContaining(['impossible_travel', 'dlp_detection', 'endpoint_detection', 'failed_logins']));
    expect(c.behaviors.find((b) => b.id === 'failed_logins')).toMatchObject({ kind: 'threshold', params: { window: 300_000, count: 10 } });
  });
});

describe('loadConfig issues, located as file:line:col', () => {
  it('a broken behaviors file: unknown behavior, unknown key, bad duration, bad level', () => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': BROKEN_BEHAVIORS })))).toEqual([
      'behaviors.yaml:4:15 impossible_travel.risk_level: must be one of low, medium, high',
      'behaviors.yaml:9:11 dlp_detection.window: must be a duration like 30s, 5m, 24h or 7d',
      'behaviors.yaml:10:3 unknown key "dlp_detection.colour"',
      expect.stringMatching(/^behaviors\.yaml:11:1 unknown behavior "teleportation"/),
    ]);
  });

  it.each(['not a url', 'http://127.0.0.1:6379'])('redis.url %j is refused where the worker would fail to start', (url) => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': `redis:\n  url: ${JSON.stringify(url)}\n` })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:2:\d+ redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/),
    ]);
  });

  it('behavior ids every object has, or starting with #, are refused: their hits could not be kept apart', () => {
    const t = (id: string): string => `${id}:\n  kind: threshold\n  risk_level: high\n  match: {type: pp}\n  count: 1\n  window: 1m\n`;
    const text = ['__proto__', 'constructor', 'toString', '"#vouched"'].map(t).join('');
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': text })))).toEqual([
      'behaviors.yaml:1:1 behavior id "__proto__" is reserved (choose another name)',
      'behaviors.yaml:7:1 behavior id "constructor" is reserved (choose another name)',
      'behaviors.yaml:13:1 behavior id "toString" is reserved (choose another name)',
      'behaviors.yaml:19:1 behavior id "#vouched" is reserved (choose another name)',
    ]);
  });

  it.each([
    ['empty', ''],
    ['comments only', '# cut short while being saved\n'],
  ])('an %s behaviors file is refused (it would switch every behavior off); an explicit {} means none', (_n, text) => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': text })))).toEqual([expect.stringMatching(/^behaviors\.yaml:1:1 behaviors file is empty/)]);
    expect(loadConfig(configDir({ 'behaviors.yaml': '{}\n' }), NO_ENV).behaviors).toEqual([]);
  });

  it('a broken riskstream.yaml: unknown key, wrong type, bad duration, bad URL', () => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': BROKEN_MAIN })))).toEqual([
      'riskstream.yaml:3:3 unknown key "redis.urll"',
      expect.stringMatching(/^riskstream\.yaml:5:9 http\.port: .*number/),
      'riskstream.yaml:7:10 streams.block: must be a duration like 30s, 5m, 24h or 7d',
      expect.stringMatching(/^riskstream\.yaml:8:9 issuer: .*https URL/),
    ]);
  });

  it.each([
    ['https://rs.example.com', true],
    ['http://localhost:8080', true],
    ['http://rs.example.com', false],
    ['mailto:sec@example.com', false],
    // SSF 1.0 §7.1 issuer / §8.1.1 iss: "URL using the https scheme with no query or fragment component".
    ['https://rs.example.com/tenant1', true],
    ['https://rs.example.com/?tenant=1', false],
    ['https://rs.example.com/#frag', false],
    ['https://rs.example.com?', false],
    ['http://localhost:8080/?a=1', false],
    // Published in every SET's iss and the SSF metadata: no credentials in it.
    ['https://user:secret@rs.example.com', false],
    ['https://user@rs.example.com', false],
  ])('issuer %s accepted: %s (an https URL; http only for localhost; no query, fragment or credentials)', (issuer, ok) => {
    const dir = configDir({ 'riskstream.yaml': `issuer: ${issuer}\n` });
    if (ok) expect(loadConfig(dir, NO_ENV).raw.issuer).toBe(issuer);
    else expect(lines(issuesOf(dir))).toEqual([expect.stringMatching(/^riskstream\.yaml:1:9 issuer: .*https URL/)]);
  });

  it.each([
    ['https://rs.example.com/base', true],
    ['https://rs.example.com/base?x=1', false],
    ['https://rs.example.com/base#x', false],
    ['https://u:p@rs.example.com/base', false],
    // SSF 1.0 §7.1: jwks_uri and the management endpoints published under it "MUST use HTTP over TLS".
    ['http://rs.example.com', false],
    ['http://10.0.0.5:8080', false],
    ['ftp://rs.example.com', false],
    ['http://localhost:8080', true],
    ['http://127.0.0.1:8080/base', true],
  ])(
    'http.public_url %s accepted: %s (https, http only for localhost; the SSF endpoints are paths appended to it: no query or fragment; published: no credentials)',
    (url, ok) => {
      const dir = configDir({ 'riskstream.yaml': `http:\n  public_url: ${url}\n` });
      if (ok) expect(loadConfig(dir, NO_ENV).raw.http.public_url).toBe(url);
      else
        expect(lines(issuesOf(dir))).toEqual([
          expect.stringMatching(/^riskstream\.yaml:2:15 http\.public_url: .*(https URL|no query or fragment|no user or password)/),
        ]);
    },
  );

  it('both files at once: every issue, main file first', () => {
    const issues = lines(issuesOf(configDir({ 'riskstream.yaml': BROKEN_MAIN, 'behaviors.yaml': BROKEN_BEHAVIORS })));
    expect(issues).toHaveLength(8);
    expect(issues.slice(0, 4).every((l) => l.startsWith('riskstream.yaml:'))).toBe(true);
    expect(issues.slice(4).every((l) => l.startsWith('behaviors.yaml:'))).toBe(true);
  });

  it('YAML syntax: a duplicate key, a tab, an unclosed flow sequence', () => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'redis:\n  url: redis://x\nhttp:\n  port: 1\n  port: 2\n' })))).toEqual([
      'riskstream.yaml:5:3 Map keys must be unique',
    ]);
    const tab = issuesOf(configDir({ 'riskstream.yaml': 'http:\n\tport: 1\n' }));
    expect(tab.length).toBeGreaterThan(0);
    expect(tab[0]).toMatchObject({ line: 2 });
    const flow = issuesOf(configDir({ 'behaviors.yaml': 'dlp_detection:\n  risk_level: medium\n  window: [1m\n' }));
    expect(flow.length).toBeGreaterThan(0);
    expect(flow[0]!.file).toMatch(/behaviors\.yaml$/);
  });

  it('a single file path works, and a missing path is CONFIG_NOT_FOUND', () => {
    const dir = configDir({ 'behaviors.yaml': BROKEN_BEHAVIORS });
    expect(lines(issuesOf(join(dir, 'behaviors.yaml')))).toHaveLength(4);
    expect(() => loadConfig(join(dir, 'nope'), NO_ENV)).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND' }));
  });

  it('receiver problems found after the schema point at the receiver, not at 1:1; riskstream.yaml comes first', () => {
    const main = [
      'receivers:',
      '  - name: a',
      '    kind: ssf',
      '    audience: https://a.example',
      '  - name: b',
      '    kind: ssf',
      '    endpoint: https://b.example/events',
      '    authorization: ${RISKSTREAM_TEST_UNSET_VAR}',
      '  - name: b',
      '    kind: ssf',
      '    endpoint: https://c.example/events',
      '    authorization_env: RISKSTREAM_TEST_UNSET_VAR',
      '',
    ].join('\n');
    const behaviors = 'impossible_travel:\n  risk_level: high\n  expires_after: 5 mins\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': main, 'behaviors.yaml': behaviors })))).toEqual([
      'riskstream.yaml:2:5 receivers[0] (a): endpoint is required (or org_url for kind okta)',
      'riskstream.yaml:8:20 receivers[1].authorization: environment variable RISKSTREAM_TEST_UNSET_VAR is not set (or empty)',
      'riskstream.yaml:9:11 receivers[2]: duplicate name "b"',
      'riskstream.yaml:12:24 receivers[2] (b): environment variable RISKSTREAM_TEST_UNSET_VAR is not set (or empty)',
      'behaviors.yaml:3:18 impossible_travel.expires_after: must be a duration like 30m, 24h or 7d, or never',
    ]);
  });

  it("one receiver failing the schema hides no other receiver's problem: each entry that parses is checked in the same run", () => {
    // A black-box audit: a mistyped `kind` in one entry dropped the whole section, so another entry's
    // duplicate name, non-http endpoint or unset variable showed only after that fix (a second run).
    const main = [
      'receivers:',
      '  - name: a',
      '    kind: weird',
      '    endpoint: https://a.example/events',
      '  - name: b',
      '    kind: ssf',
      '    endpoint: ftp://b.example/events',
      '  - name: c',
      '    kind: ssf',
      '    endpoint: https://c.example/events',
      '    authorization_env: RISKSTREAM_TEST_UNSET_VAR',
      '  - name: c',
      '    kind: ssf',
      '    endpoint: https://c2.example/events',
      '',
    ].join('\n');
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': main })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:3:11 receivers\.0\.kind: /),
      'riskstream.yaml:7:15 receivers[1] (b): endpoint must be an https (or http) URL',
      'riskstream.yaml:11:24 receivers[2] (c): environment variable RISKSTREAM_TEST_UNSET_VAR is not set (or empty)',
      'riskstream.yaml:12:11 receivers[3]: duplicate name "c"',
    ]);
  });

  it('a receiver authorization HTTP cannot carry (CR/LF, from the file or its variable) is a config issue that names no secret', () => {
    const main = [
      'receivers:',
      '  - name: a',
      '    kind: ssf',
      '    endpoint: https://a.example/events',
      '    authorization: "Bearer SECRET-1\\r\\nX-Injected: yes"',
      '',
    ];
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': main.join('\n') })))).toEqual([
      'riskstream.yaml:5:20 receivers[0] (a): authorization must be printable ASCII (no control characters)',
    ]);
    process.env.RISKSTREAM_TEST_AUTH_VAR = 'Bearer SECRET-2\nX: y';
    try {
      const env = [...main.slice(0, 4), '    authorization_env: RISKSTREAM_TEST_AUTH_VAR', ''];
      const issues = lines(issuesOf(configDir({ 'riskstream.yaml': env.join('\n') })));
      expect(issues).toEqual(['riskstream.yaml:5:24 receivers[0] (a): authorization must be printable ASCII (no control characters)']);
      expect(issues.join(' ')).not.toContain('SECRET');
    } finally {
      delete process.env.RISKSTREAM_TEST_AUTH_VAR;
    }
  });

  it('authorization: ${NAME} is expanded anywhere in the value ("Bearer ${TOKEN}"), $${ stays literal', () => {
    process.env.RISKSTREAM_TEST_AUTH_VAR = 'tok-123';
    try {
      const main = [
        'receivers:',
        '  - name: a',
        '    kind: ssf',
        '    endpoint: https://a.example/events',
        '    authorization: "Bearer ${RISKSTREAM_TEST_AUTH_VAR}"',
      ];
      const literal = [...main.slice(0, 4), '    authorization: "x $${RISKSTREAM_TEST_AUTH_VAR}"'];
      const whole = [...main.slice(0, 4), '    authorization: "${RISKSTREAM_TEST_AUTH_VAR}"'];
      const value = (lines: string[]): string | undefined =>
        loadConfig(configDir({ 'riskstream.yaml': lines.join('\n') }), NO_ENV).receivers[0]!.authorizationValue;
      expect(value(main)).toBe('Bearer tok-123');
      expect(value(literal)).toBe('x ${RISKSTREAM_TEST_AUTH_VAR}');
      expect(value(whole)).toBe('tok-123');
    } finally {
      delete process.env.RISKSTREAM_TEST_AUTH_VAR;
    }
    const unset = [
      'receivers:',
      '  - name: a',
      '    kind: ssf',
      '    endpoint: https://a.example/events',
      '    authorization: "Bearer ${RISKSTREAM_TEST_UNSET_VAR}"',
    ];
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': unset.join('\n') })))).toEqual([
      'riskstream.yaml:5:20 receivers[0].authorization: environment variable RISKSTREAM_TEST_UNSET_VAR is not set (or empty)',
    ]);
  });

  it('an empty credential variable is an issue, as an unset one (no SET sent with no or a bare "Bearer " authorization)', () => {
    process.env.RISKSTREAM_TEST_EMPTY_VAR = '';
    try {
      const entry = (name: string, auth: string): string[] => [
        `  - name: ${name}`,
        '    kind: ssf',
        `    endpoint: https://${name}.example/events`,
        `    ${auth}`,
      ];
      const main = [
        'receivers:',
        ...entry('a', 'authorization_env: RISKSTREAM_TEST_EMPTY_VAR'),
        ...entry('b', 'authorization: "Bearer ${RISKSTREAM_TEST_EMPTY_VAR}"'),
        ...entry('c', 'authorization: env:RISKSTREAM_TEST_EMPTY_VAR'),
        '',
      ].join('\n');
      expect(lines(issuesOf(configDir({ 'riskstream.yaml': main })))).toEqual([
        'riskstream.yaml:5:24 receivers[0] (a): environment variable RISKSTREAM_TEST_EMPTY_VAR is not set (or empty)',
        'riskstream.yaml:9:20 receivers[1].authorization: environment variable RISKSTREAM_TEST_EMPTY_VAR is not set (or empty)',
        'riskstream.yaml:13:20 receivers[2].authorization: environment variable RISKSTREAM_TEST_EMPTY_VAR is not set (or empty)',
      ]);
    } finally {
      delete process.env.RISKSTREAM_TEST_EMPTY_VAR;
    }
  });

  it('a missing risk_level is named as missing, at its behavior’s key; a wrong one as wrong, at the value', () => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'dlp_detection:\n  enabled: true\n' })))).toEqual([
      'behaviors.yaml:1:1 dlp_detection.risk_level: required (one of low, medium, high)',
    ]);
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'dlp_detection:\n  risk_level: severe\n' })))).toEqual([
      'behaviors.yaml:2:15 dlp_detection.risk_level: must be one of low, medium, high',
    ]);
  });

  it('a detector window of 0s is refused (it would never count two events)', () => {
    const threshold = 'failed_logins:\n  kind: threshold\n  risk_level: medium\n  match: {type: login}\n  count: 3\n  window: 0s\n';
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': threshold })))).toEqual(['behaviors.yaml:6:11 failed_logins.window: must be longer than 0s']);
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'brute_force:\n  risk_level: high\n  window: 0m\n' })))).toEqual([
      'behaviors.yaml:3:11 brute_force.window: must be longer than 0s',
    ]);
  });

  it('a stream the worker writes may not be one it reads, or another it writes (it would read its own dead letters back)', () => {
    const yaml = 'redis:\n  prefix: cx\nstreams:\n  login: in-login\n  dead_letter: in-login\n  risk_events: cx:activity\n  audit: cx:control\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      'riskstream.yaml:5:16 streams.dead_letter: "in-login" is also streams.login: the worker writes one and reads or writes the other; give each its own stream',
      'riskstream.yaml:6:16 streams.risk_events: "cx:activity" is also streams.activity: the worker writes one and reads or writes the other; give each its own stream',
      'riskstream.yaml:7:10 streams.audit: "cx:control" is also the control stream: the worker writes one and reads or writes the other; give each its own stream',
    ]);
    // An input named like a default output: reported at the input.
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'redis:\n  prefix: cx\nstreams:\n  extra: [cx:audit]\n' })))).toEqual([
      'riskstream.yaml:4:11 streams.audit: "cx:audit" is also streams.extra[0]: the worker writes one and reads or writes the other; give each its own stream',
    ]);
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'streams:\n  audit: shared\n  risk_events: shared\n' })))).toHaveLength(1);
  });

  it('an input stream may not be the control stream (a black-box audit: login: cx:control passed config check, and every login was dead-lettered as control_invalid, never scored)', () => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'redis:\n  prefix: cx\nstreams:\n  login: cx:control\n  extra: [cx:other, cx:control]\n' })))).toEqual(
      [
        'riskstream.yaml:4:10 streams.login: "cx:control" is the control stream (riskstream\'s own): its events would be read as control messages, never scored; give the input its own stream',
        'riskstream.yaml:5:21 streams.extra[1]: "cx:control" is the control stream (riskstream\'s own): its events would be read as control messages, never scored; give the input its own stream',
      ],
    );
  });

  it('at most 63 input streams: more passed config check and the worker then failed to start (a black-box audit: "router thread ended before it was ready", exit 1, no place named)', () => {
    const extra = (n: number): string => `streams:\n  extra:\n${Array.from({ length: n }, (_, i) => `    - cx:x${i}\n`).join('')}`;
    // login + activity + 61 extra (one repeated: counted once) = 63: the most the router reads besides the control stream.
    expect(() => loadConfig(configDir({ 'riskstream.yaml': `${extra(61)}    - cx:x0\n` }), NO_ENV)).not.toThrow();
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': extra(62) })))).toEqual([
      'riskstream.yaml:3:5 streams.extra: at most 63 input streams (streams.login, streams.activity and streams.extra together; 64 given)',
    ]);
  });

  it('a bridged list must feed an input stream (a black-box review: a typo moved shipped events where nothing scores them, config check said ok)', () => {
    const yaml =
      'redis:\n  prefix: cx\nstreams:\n  extra: [cx:okta]\nbridge:\n  lists:\n    cx:bridge:a: cx:actvity\n    cx:bridge:b: cx:control\n    cx:bridge:c: cx:dead-letter\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      'riskstream.yaml:7:18 bridge.lists.cx:bridge:a: "cx:actvity" is not an input stream (streams.login, streams.activity or streams.extra): nothing would read what the bridge moves there',
      'riskstream.yaml:8:18 bridge.lists.cx:bridge:b: "cx:control" is not an input stream (streams.login, streams.activity or streams.extra): nothing would read what the bridge moves there',
      'riskstream.yaml:9:18 bridge.lists.cx:bridge:c: "cx:dead-letter" is not an input stream (streams.login, streams.activity or streams.extra): nothing would read what the bridge moves there',
    ]);
    const ok = 'redis:\n  prefix: cx\nstreams:\n  extra: [cx:okta]\nbridge:\n  lists:\n    a: cx:login\n    b: cx:activity\n    c: cx:okta\n';
    expect(loadConfig(configDir({ 'riskstream.yaml': ok }), NO_ENV).raw.bridge.lists).toEqual({ a: 'cx:login', b: 'cx:activity', c: 'cx:okta' });
  });

  it('a mapped stream must be an input stream (an audit: the documented "riskstream:okta": okta, not in streams.extra, was accepted and nothing read what was sent there)', () => {
    const yaml = 'redis:\n  prefix: cx\nstreams:\n  extra: [cx:okta]\nmapping:\n  streams:\n    cx:vpn: okta\n    cx:dead-letter: entra\n    cx:okta: okta\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      'riskstream.yaml:7:13 mapping.streams.cx:vpn: "cx:vpn" is not an input stream (streams.login, streams.activity or streams.extra): nothing reads it, so its profile never applies',
      'riskstream.yaml:8:21 mapping.streams.cx:dead-letter: "cx:dead-letter" is not an input stream (streams.login, streams.activity or streams.extra): nothing reads it, so its profile never applies',
    ]);
    const ok =
      'redis:\n  prefix: cx\nstreams:\n  extra: [cx:okta]\nmapping:\n  streams:\n    cx:login: entra\n    cx:activity: cloudtrail\n    cx:okta: okta\n';
    expect(loadConfig(configDir({ 'riskstream.yaml': ok }), NO_ENV).raw.mapping.streams).toEqual({
      'cx:login': 'entra',
      'cx:activity': 'cloudtrail',
      'cx:okta': 'okta',
    });
    // Not judged against the default names while streams fails: only that section's issue.
    const badStreams = 'streams:\n  batch_size: 0\n  extra: [cx:okta]\nmapping:\n  streams:\n    cx:okta: okta\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': badStreams })))).toEqual([expect.stringMatching(/^riskstream\.yaml:2:15 streams\.batch_size: /)]);
    // Its profiles are still checked in that run (they were dropped with the section: reported only once redis was fixed).
    const badRedis = 'redis:\n  prefix: 7\nmapping:\n  streams:\n    cx:okta: nosuch\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': badRedis })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:2:11 redis\.prefix: /),
      expect.stringMatching(/^riskstream\.yaml:5:14 mapping\.streams\.cx:okta: unknown mapping profile "nosuch"/),
    ]);
  });

  it('redis.url and redis.cluster together are an issue at cluster (which Redis holds everything would be unsaid); either alone is not', () => {
    const both = 'redis:\n  url: redis://127.0.0.1:6379\n  cluster: [redis://127.0.0.1:7000]\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': both })))).toEqual([
      'riskstream.yaml:3:12 redis: set url (one node) or cluster (startup nodes of a Redis Cluster), not both',
    ]);
    expect(loadConfig(configDir({ 'riskstream.yaml': 'redis:\n  cluster: [redis://127.0.0.1:7000]\n' }), NO_ENV).redisCluster).toEqual([
      'redis://127.0.0.1:7000',
    ]);
    expect(loadConfig(configDir({ 'riskstream.yaml': 'redis:\n  url: redis://127.0.0.1:6390\n' }), NO_ENV).redisUrl).toBe('redis://127.0.0.1:6390');
  });

  it("redis.cluster: startup nodes whose scheme, user or password differ from the first's are an issue at that node (the client uses the first's for every node: the others' were ignored)", () => {
    const cluster = (nodes: string) => ({ 'riskstream.yaml': `redis:\n  cluster: [${nodes}]\n` });
    const issues = lines(issuesOf(configDir(cluster('redis://127.0.0.1:7000, redis://:s3cret-pw@127.0.0.1:7001, rediss://127.0.0.1:7002'))));
    expect(issues).toEqual([
      expect.stringMatching(/^riskstream\.yaml:2:37 redis\.cluster\.1: startup nodes share one scheme, user and password/),
      expect.stringMatching(/^riskstream\.yaml:2:72 redis\.cluster\.2: startup nodes share one scheme, user and password/),
    ]);
    expect(issues.join('\n')).not.toContain('s3cret-pw');
    const same = 'redis://u:pw@127.0.0.1:7000, redis://u:pw@127.0.0.1:7001';
    expect(loadConfig(configDir(cluster(same)), NO_ENV).redisCluster).toEqual(['redis://u:pw@127.0.0.1:7000', 'redis://u:pw@127.0.0.1:7001']);
  });

  it('a bridged list is not judged against default stream names when streams or redis failed (a black-box review: a typo in redis.cluster also reported a correct bridge target)', () => {
    const bridge = 'bridge:\n  lists:\n    "{ship}:list": "{ship}:events"\n';
    const badCluster = `redis:\n  cluster: [http://127.0.0.1:7000]\n  prefix: cx\nstreams:\n  extra: ["{ship}:events"]\n${bridge}`;
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': badCluster })))).toEqual([expect.stringMatching(/^riskstream\.yaml:2:13 redis\.cluster\.0: /)]);
    const badPrefix = `redis:\n  prefix: "c x"\n${bridge.replace('{ship}:events', 'c x:login')}`;
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': badPrefix })))).toEqual([expect.stringMatching(/^riskstream\.yaml:2:11 redis\.prefix: /)]);
    const badStreams = `streams:\n  batch_size: 0\n  extra: ["{ship}:events"]\n${bridge}`;
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': badStreams })))).toEqual([expect.stringMatching(/^riskstream\.yaml:2:15 streams\.batch_size: /)]);
  });

  it('an alias without its anchor, or an alias bomb, is an issue at the alias (not a bare error)', () => {
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'log_level: info\nx: &a [1]\ny: *nope\n' })))).toEqual([
      'riskstream.yaml:3:4 Unresolved alias (the anchor must be set before the alias): nope',
    ]);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const issues = issuesOf(configDir({ 'behaviors.yaml': `${bomb}\n` }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 2, message: expect.stringMatching(/alias/i) });
  });

  it('http.host is an IP address or a host name (one the worker could never listen on is refused)', () => {
    for (const bad of ['999.1.1.1', '1.2.3', 'bad host', 'http://x']) {
      expect(lines(issuesOf(configDir({ 'riskstream.yaml': `http:\n  host: "${bad}"\n` }))), bad).toEqual([
        'riskstream.yaml:2:9 http.host: must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name',
      ]);
    }
    for (const ok of ['127.0.0.1', '::1', '::', 'localhost', 'worker-1.internal'])
      expect(loadConfig(configDir({ 'riskstream.yaml': `http:\n  host: "${ok}"\n` }), NO_ENV).raw.http.host).toBe(ok);
  });

  it('a receiver’s `concurrency` must be a positive integer, located at its value', () => {
    const yaml = [
      'receivers:',
      '  - name: a',
      '    kind: ssf',
      '    endpoint: https://a.example.com/events',
      '    concurrency: 0',
      '  - { name: b, kind: ssf, endpoint: "https://b.example.com/events", concurrency: -2 }',
      '  - { name: c, kind: ssf, endpoint: "https://c.example.com/events", concurrency: 1.5 }',
      '',
    ].join('\n');
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      'riskstream.yaml:5:18 receivers.0.concurrency: Too small: expected number to be >0',
      expect.stringMatching(/^riskstream\.yaml:6:82 receivers\.1\.concurrency: /),
      expect.stringMatching(/^riskstream\.yaml:7:82 receivers\.2\.concurrency: /),
    ]);
  });

  it('settings that 0s would break are refused: timeouts, block, sweep and retry intervals', () => {
    const yaml = 'streams:\n  block: 0s\nstate:\n  sweep_interval: 0s\ndelivery:\n  backoff_base: 0s\n  horizon: 0s\nssf:\n  timeout: 0s\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      'riskstream.yaml:2:10 streams.block: must be longer than 0s',
      'riskstream.yaml:4:19 state.sweep_interval: must be longer than 0s',
      'riskstream.yaml:6:17 delivery.backoff_base: must be longer than 0s',
      'riskstream.yaml:7:12 delivery.horizon: must be longer than 0s',
      'riskstream.yaml:9:12 ssf.timeout: must be longer than 0s',
    ]);
  });

  it('state.idle_user_ttl: 30d by default, 0s turns it off, one shorter than login_max_age + allowed_lateness accepted (raised in force)', () => {
    expect(loadConfig(configDir({}), NO_ENV).raw.state.idle_user_ttl).toBe(30 * 86_400_000);
    expect(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  idle_user_ttl: 0s\n' }), NO_ENV).raw.state.idle_user_ttl).toBe(0);
    // The default with a login_max_age past it: still a valid configuration (effectiveIdleTtl raises the TTL in force).
    expect(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  login_max_age: 60d\n' }), NO_ENV).raw.state.login_max_age).toBe(60 * 86_400_000);
    expect(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  login_max_age: 7d\n  idle_user_ttl: 7d\n' }), NO_ENV).raw.state.idle_user_ttl).toBe(
      7 * 86_400_000,
    );
    expect(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  login_max_age: 1d\n  idle_user_ttl: 2d\n' }), NO_ENV).raw.state.idle_user_ttl).toBe(
      2 * 86_400_000,
    );
  });

  it('state.risk_event_retention: 365d by default, 0s keeps risk events for good; in force never under the idle TTL', () => {
    const dflt = loadConfig(configDir({}), NO_ENV);
    expect(dflt.raw.state.risk_event_retention).toBe(365 * 86_400_000);
    expect(retentionOf(dflt)?.events).toBe(365 * 86_400_000);
    expect(retentionOf(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  risk_event_retention: 0s\n' }), NO_ENV))?.events).toBeUndefined();
    expect(retentionOf(loadConfig(configDir({ 'riskstream.yaml': 'state:\n  risk_event_retention: 1d\n' }), NO_ENV))?.events).toBe(30 * 86_400_000);
  });

  it('ssf.limits.changes_per_second / changes_burst: checked at their place; 0 turns the rate limit off', () => {
    const yaml = 'ssf:\n  limits:\n    changes_per_second: -1\n    changes_burst: 0\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': yaml })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:3:25 ssf\.limits\.changes_per_second: /),
      expect.stringMatching(/^riskstream\.yaml:4:20 ssf\.limits\.changes_burst: /),
    ]);
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': 'ssf:\n  limits:\n    changes_burst: 2.5\n' })))).toEqual([
      expect.stringMatching(/^riskstream\.yaml:3:20 ssf\.limits\.changes_burst: /),
    ]);
    const off = loadConfig(configDir({ 'riskstream.yaml': 'ssf:\n  limits:\n    changes_per_second: 0\n' }), NO_ENV).raw.ssf.limits;
    expect(off).toMatchObject({ changes_per_second: 0, changes_burst: 1000 });
    expect(loadConfig(configDir({ 'riskstream.yaml': 'ssf: {}\n' }), NO_ENV).raw.ssf.limits).toMatchObject({ changes_per_second: 10, changes_burst: 1000 });
  });

  it('expires_after: 0s is refused (every hit would expire on arrival); never is accepted', () => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'dlp_detection:\n  risk_level: high\n  expires_after: 0s\n' })))).toEqual([
      'behaviors.yaml:3:18 dlp_detection.expires_after: must be longer than 0s (to turn a behavior off: enabled: false)',
    ]);
    expect(loadConfig(configDir({ 'behaviors.yaml': 'dlp_detection:\n  risk_level: high\n  expires_after: never\n' }), NO_ENV).behaviors[0]).toMatchObject({
      id: 'dlp_detection',
      expires_after: null,
    });
  });

  it('one issue per place: an over-indented key, which the YAML parser reports two ways at one place, is listed once', () => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'dlp_detection:\n  risk_level: high\n   expires_after: 24h\n' })))).toEqual([
      'behaviors.yaml:2:15 Nested mappings are not allowed in compact mappings',
    ]);
  });

  it('an unclosed [ or { is located at its opening, not where the parser gave up lines later', () => {
    const seq = 'session_hijack:\n  risk_level: high\n  compare: [device, asn\n\n# a comment with ] and [\npassword_spray:\n  risk_level: high\n';
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': seq })))).toEqual([
      'behaviors.yaml:3:12 Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    const map = "dlp_detection:\n  risk_level: high\n  match: {app: 'a[b', type: dlp\n\nbrute_force:\n  risk_level: high\n";
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': map })))[0]).toMatch(/^behaviors\.yaml:3:10 Flow map /);
  });

  it('an unclosed quote is located at its opening, not past the end of the file where the parser gave up', () => {
    const main = 'issuer: "https://riskstream.test\nredis:\n  url: redis://127.0.0.1:6379\n';
    expect(lines(issuesOf(configDir({ 'riskstream.yaml': main, 'behaviors.yaml': '{}\n' })))).toEqual(['riskstream.yaml:1:9 Missing closing "quote']);
    const behaviors = "dlp_detection:\n  risk_level: 'high\n  # it's [not] a {quote}\nbrute_force:\n  risk_level: high\n";
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': behaviors })))).toEqual(["behaviors.yaml:2:15 Missing closing 'quote"]);
  });

  it('several missing keys of one behavior are each listed, though located at the same key', () => {
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': 'failed_logins:\n  kind: threshold\n  risk_level: medium\n' })))).toHaveLength(3);
  });

  it('an apostrophe inside a flow collection is no quote: the unclosed { of the next line is located', () => {
    const text = "dlp_detection:\n  risk_level: high\n  profiles: [don't, y]\n  match: {app: x\n\nbrute_force:\n  risk_level: high\n";
    expect(lines(issuesOf(configDir({ 'behaviors.yaml': text })))[0]).toMatch(/^behaviors\.yaml:4:10 Flow map /);
  });

  it('the error message itself lists every issue', () => {
    const dir = configDir({ 'behaviors.yaml': BROKEN_BEHAVIORS });
    expect(() => loadConfig(dir, NO_ENV)).toThrow(/behaviors\.yaml:4:15 .*\n.*behaviors\.yaml:9:11/);
  });
});
