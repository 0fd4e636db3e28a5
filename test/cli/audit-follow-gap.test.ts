import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { proxyTestRedis, type TcpProxy } from '../helpers/tcp-proxy.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { startCli } from './run.js';

// `riskstream audit tail -f --action …` whose listing found no match followed from `$`: an entry
// appended after the listing and before the follow's first read was never printed.
const prefix = testPrefix('cli-audit-follow-gap');
const redis = redisClient();
let cfg: TestConfig;
let audit: AuditLog;
let proxy: TcpProxy;
let url: string;
/** Resolves once the CLI's first follow read (XREAD) is held at the proxy, not yet run. */
let reading!: Promise<void>;

beforeAll(async () => {
  cfg = await writeTestConfig(prefix);
  audit = new AuditLog(redis, new Keys(prefix).auditStream);
  await audit.write({ action: 'session.revoked', actor: 'cli:abcd1234', target: 's-1', details: {} });
  let held: (() => void) | undefined;
  reading = new Promise<void>((r) => (held = r));
  ({ proxy, url } = await proxyTestRedis({
    // The first XREAD only: the follow's later reads go through.
    stallWhen: (chunk) => {
      if (!held || !/xread/i.test(chunk.toString('latin1'))) return false;
      held();
      held = undefined;
      return true;
    },
  }));
});

afterAll(async () => {
  await proxy?.close();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('riskstream audit tail -f', () => {
  it('prints a matching entry appended between its listing and its first follow read', async () => {
    const cli = startCli(['audit', 'tail', '-f', '--json', '--action', 'risk.reset', '--config', cfg.dir], { REDIS_URL: url });
    try {
      await reading;
      await audit.write({ action: 'risk.reset', actor: 'cli:abcd1234', target: 'gap@example.com', details: { reason: 'in the gap' } });
      proxy.resume();
      await waitFor(() => cli.stdout().includes('gap@example.com'), { what: `the entry appended in the gap\n${cli.stdout()}\n${cli.stderr()}` });
      cli.child.kill('SIGINT');
      expect(await cli.closed).toBe(0);
      const lines = cli.stdout().trimEnd().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { target: string }).target)).toEqual(['gap@example.com']);
    } finally {
      cli.child.kill('SIGKILL');
    }
  }, 60_000);
});
