import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('sessions.max_identity_bytes under 4096 is refused with its place; 4096 passes', async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-idcap-'));
    try {
      writeFileSync(join(d, 'riskstream.yaml'), 'sessions:\n  max_identity_bytes: 1000\n');
      const bad = await runCli(['config', 'check', '--config', d]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(new RegExp(`^${d}/riskstream\\.yaml:2:23 sessions\\.max_identity_bytes: `, 'm'));
      writeFileSync(join(d, 'riskstream.yaml'), 'sessions:\n  max_identity_bytes: 4096\n');
      const good = await runCli(['config', 'check', '--config', d]);
      expect(good.stderr).toBe('');
      expect(good.code).toBe(0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
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

  it('REDIS_URL and RISKSTREAM_LOG_LEVEL held to the rules of redis.url and log_level; a geoip.mmdb that cannot be opened: refused by both', async () => {
    for (const [env, message] of [
      [{ REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
      // No scheme and no URL the client can read (a black-box audit: `config check` said ok, the worker failed on "Invalid URL").
      [{ REDIS_URL: 'redis host:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
      [{ RISKSTREAM_LOG_LEVEL: 'verbose', REDIS_URL: 'redis://127.0.0.1:1' }, /RISKSTREAM_LOG_LEVEL: must be one of fatal, error/],
    ] as const) {
      const all = { ...env, RISKSTREAM_INGEST_TOKEN: '' };
      const [check, worker] = await Promise.all([
        runCli(['config', 'check', '--config', join(ROOT, 'config')], { env: all }),
        runCli(['worker', '--config', join(ROOT, 'config')], { env: all, timeoutMs: 25_000 }),
      ]);
      for (const r of [check, worker]) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
      }
    }
    // A bare host:port is what the client reads as one: still accepted.
    expect(
      (await runCli(['config', 'check', '--config', join(ROOT, 'config')], { env: { REDIS_URL: 'redis-host:6379', RISKSTREAM_INGEST_TOKEN: '' } })).code,
    ).toBe(0);
    const geo = mkdtempSync(join(tmpdir(), 'riskstream-check-geo-'));
    try {
      writeFileSync(join(geo, 'riskstream.yaml'), 'geoip:\n  mmdb: /nonexistent/GeoLite2-City.mmdb\n');
      const r = await runCli(['config', 'check', '--config', geo], { env: { RISKSTREAM_INGEST_TOKEN: '' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/riskstream\.yaml:2:9 geoip\.mmdb: cannot open \/nonexistent\/GeoLite2-City\.mmdb/);
    } finally {
      rmSync(geo, { recursive: true, force: true });
    }
  }, 60_000); // five rounds of CLI starts one after another: ≈ 4 s each on a loaded 2-core machine

  it('reports what the worker would refuse at start: a receiver with no key for its alg, an unreadable key file, a non-http endpoint', async () => {
    const cases = {
      // kind okta signs RS256; only an ES256 main key is configured, a JWK file: no implicit RS256 key beside it.
      okta: [
        'issuer: https://riskstream.example',
        'receivers:',
        '  - name: okta1',
        '    kind: okta',
        '    org_url: https://example.okta.com',
        'signing:',
        '  key_file: keys/signing.jwk.json',
      ],
      keyfile: ['issuer: https://riskstream.example', 'signing:', '  keys:', '    - key_file: keys/missing-rs256.pem', '      alg: RS256'],
      ftp: [
        'issuer: https://riskstream.example',
        'receivers:',
        '  - name: rx',
        '    kind: ssf',
        '    endpoint: ftp://rx.example/events',
        '    audience: https://rx.example',
      ],
    };
    const dirs = Object.fromEntries(
      Object.entries(cases).map(([name, lines]) => {
        const d = mkdtempSync(join(tmpdir(), `riskstream-check-${name}-`));
        writeFileSync(join(d, 'riskstream.yaml'), `${lines.join('\n')}\n`);
        return [name, d];
      }),
    );
    try {
      const [okta, keyfile, ftp] = await Promise.all(Object.values(dirs).map((d) => runCli(['config', 'check', '--config', d])));
      expect([okta!.code, keyfile!.code, ftp!.code]).toEqual([1, 1, 1]);
      expect(okta!.stderr.trim().split('\n')).toEqual([
        `${dirs.okta}/riskstream.yaml:3:5 receivers[0] (okta1): signs with RS256 but no RS256 key is configured (add it under signing.keys)`,
        `${dirs.okta}/riskstream.yaml:7:13 signing.key_file: cannot read signing key file ${dirs.okta}/keys/signing.jwk.json`,
      ]);
      expect(keyfile!.stderr.trim()).toBe(
        `${dirs.keyfile}/riskstream.yaml:4:17 signing.keys.0.key_file: cannot read signing key file ${dirs.keyfile}/keys/missing-rs256.pem`,
      );
      expect(ftp!.stderr.trim()).toBe(`${dirs.ftp}/riskstream.yaml:5:15 receivers[0] (rx): endpoint must be an https (or http) URL`);
      // The main key (missing, .pem) is no issue: the worker generates it; check writes nothing.
      expect(existsSync(join(dirs.ftp!, 'keys'))).toBe(false);
    } finally {
      for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    }
  });

  it('a minimal okta receiver (no RS256 key configured) passes: its implicit RS256 key beside signing.key_file is generated at first start; once there it is checked as any key', async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-okta-'));
    try {
      const lines = [
        'issuer: https://riskstream.example',
        'receivers:',
        '  - name: okta1',
        '    kind: okta',
        '    endpoint: https://example.okta.com/security/api/v1/security-events',
        '    audience: https://example.okta.com',
      ];
      writeFileSync(join(d, 'riskstream.yaml'), `${lines.join('\n')}\n`);
      const fresh = await runCli(['config', 'check', '--config', d]);
      expect(fresh.stderr).toBe('');
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toContain('keys/signing.rs256.pem (RS256, for receivers signing RS256) does not exist yet');
      expect(existsSync(join(d, 'keys'))).toBe(false); // check writes nothing
      // There but not a key: an issue at the receiver that needs it.
      mkdirSync(join(d, 'keys'));
      writeFileSync(join(d, 'keys', 'signing.rs256.pem'), 'not a key\n');
      const broken = await runCli(['config', 'check', '--config', d]);
      expect(broken.code).toBe(1);
      expect(broken.stderr.trim()).toMatch(
        new RegExp(`^${d}/riskstream\\.yaml:3:5 receivers\\[0\\] \\(okta1\\): its implicit RS256 key: ${d}/keys/signing\\.rs256\\.pem: `),
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a signing key file that could not be created (a file where its directory should be) is refused; a directory without riskstream.yaml is noted', async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-keydir-'));
    const empty = mkdtempSync(join(tmpdir(), 'riskstream-check-empty-'));
    try {
      writeFileSync(join(d, 'keys'), 'a file, not a directory');
      writeFileSync(join(d, 'riskstream.yaml'), 'signing:\n  key_file: keys/signing.pem\n');
      const [blocked, none] = await Promise.all([runCli(['config', 'check', '--config', d]), runCli(['config', 'check', '--config', empty])]);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain(`signing.key_file: cannot be created: ${d}/keys is not a directory`);
      expect(none.code).toBe(0);
      expect(none.stdout).toContain(`note: no riskstream.yaml in ${empty}: every setting is its default`);
    } finally {
      rmSync(d, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('--config <behaviors file>: the riskstream.yaml beside it is read (config check and the worker alike); a main file of another name is no "defaults" note', async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-beside-'));
    try {
      writeFileSync(join(d, 'behaviors.yaml'), 'impossible_travel:\n  risk_level: medium\n');
      writeFileSync(join(d, 'prod.yaml'), 'redis:\n  prefix: t-wta-prod\n');
      writeFileSync(join(d, 'riskstream.yaml'), 'redis:\n  prefix: t-wta-beside\n');
      const [ok, other] = await Promise.all([
        runCli(['config', 'check', '--config', join(d, 'behaviors.yaml')]),
        runCli(['config', 'check', '--config', join(d, 'prod.yaml')]),
      ]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(new RegExp(`^ok: ${d}/riskstream\\.yaml, ${d}/behaviors\\.yaml\n`));
      expect(ok.stdout).not.toContain('note:');
      expect(other.code).toBe(0);
      expect(other.stdout).toMatch(new RegExp(`^ok: ${d}/prod\\.yaml, ${d}/behaviors\\.yaml\n`));
      expect(other.stdout).not.toContain('note:');
      // The worker reads the same files: a mistake in the riskstream.yaml beside the behaviors file refuses its start.
      writeFileSync(join(d, 'riskstream.yaml'), 'redis:\n  urll: redis://127.0.0.1:1\n');
      const env = { REDIS_URL: 'redis://127.0.0.1:1', RISKSTREAM_INGEST_TOKEN: '' };
      const [check, worker] = await Promise.all([
        runCli(['config', 'check', '--config', join(d, 'behaviors.yaml')], { env }),
        runCli(['worker', '--config', join(d, 'behaviors.yaml')], { env, timeoutMs: 25_000 }),
      ]);
      for (const r of [check, worker]) {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${d}/riskstream.yaml:2:3 unknown key "redis.urll"`);
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);

  it('a config path that does not exist: `file:line:col message` too (CONTRACT §1), exit 1', async () => {
    const missing = join(dir, 'no-such-config');
    const r = await runCli(['config', 'check', '--config', missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`${missing}:1:1 config not found`]);
  });

  it('a config file that cannot be read (a directory where riskstream.yaml should be): `file:line:col message`, exit 1', async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-unreadable-'));
    try {
      mkdirSync(join(d, 'riskstream.yaml'));
      writeFileSync(join(d, 'behaviors.yaml'), '{}\n');
      const r = await runCli(['config', 'check', '--config', d]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([`${d}/riskstream.yaml:1:1 cannot read the file`]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it("every problem in one run: the start-up checks (a receiver with no key for its alg, an unopenable GeoIP file) beside the files' own (a black-box audit: each was hidden until the others were fixed)", async () => {
    const d = mkdtempSync(join(tmpdir(), 'riskstream-check-all-'));
    try {
      const main = [
        'http:',
        '  port: abc',
        'issuer: https://riskstream.example',
        'geoip:',
        '  mmdb: missing.mmdb',
        'receivers:',
        '  - name: rx',
        '    kind: ssf',
        '    endpoint: ftp://rx.example/events',
        '  - name: okta1',
        '    kind: okta',
        '    org_url: https://example.okta.com',
        'signing:',
        '  key_file: keys/signing.jwk.json', // a JWK file: no implicit RS256 key beside it
      ];
      writeFileSync(join(d, 'riskstream.yaml'), `${main.join('\n')}\n`);
      writeFileSync(join(d, 'behaviors.yaml'), 'impossible_travel:\n  enabled: true\n  risk_level: severe\n');
      // A signing section that fails is not judged at its defaults: no key issue follows from it.
      const f = join(d, 'f');
      mkdirSync(f);
      writeFileSync(join(f, 'riskstream.yaml'), 'signing:\n  alg: HS256\nreceivers:\n  - name: okta1\n    kind: okta\n    org_url: https://example.okta.com\n');
      writeFileSync(join(f, 'behaviors.yaml'), '{}\n');
      const [all, signing] = await Promise.all([runCli(['config', 'check', '--config', d]), runCli(['config', 'check', '--config', f])]);
      expect(all.code).toBe(1);
      expect(all.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^${d}/riskstream\\.yaml:2:9 http\\.port: `)),
        expect.stringMatching(new RegExp(`^${d}/riskstream\\.yaml:5:9 `)),
        `${d}/riskstream.yaml:9:15 receivers[0] (rx): endpoint must be an https (or http) URL`,
        `${d}/riskstream.yaml:10:5 receivers[1] (okta1): signs with RS256 but no RS256 key is configured (add it under signing.keys)`,
        `${d}/riskstream.yaml:14:13 signing.key_file: cannot read signing key file ${d}/keys/signing.jwk.json`,
        `${d}/behaviors.yaml:3:15 impossible_travel.risk_level: must be one of low, medium, high`,
      ]);
      expect(signing.code).toBe(1);
      expect(signing.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${f}/riskstream\\.yaml:2:8 signing\\.alg: `))]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);
});
