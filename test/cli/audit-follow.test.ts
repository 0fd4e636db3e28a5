import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { runInProcess } from './in-process.js';
import { startCli } from './run.js';

// `riskstream audit tail -f`: what it follows prints in the format of what it printed first.
const prefix = testPrefix('cli-audit-follow');
const redis = redisClient();
let cfg: TestConfig;
let audit: AuditLog;

/** Entries whose cells are all as wide as each other's, so one table's widths fit every row. */
const entry = (n: number) => ({ action: 'risk.reset', actor: 'cli:abcd1234', target: `user-${n}@example.com`, details: { reason: `reason ${n}` } });

beforeAll(async () => {
  cfg = await writeTestConfig(prefix);
  audit = new AuditLog(redis, new Keys(prefix).auditStream);
  await audit.write(entry(1));
  await audit.write(entry(2));
});

afterAll(async () => {
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** Runs `riskstream audit tail -f …` (a real process), writes entry 3 once the first part is out, then stops it with SIGINT. */
async function follow(extra: string[], printed: (out: string) => boolean): Promise<string> {
  const cli = startCli(['audit', 'tail', '-f', '--config', cfg.dir, ...extra]);
  try {
    await waitFor(() => cli.stdout().includes('user-2@example.com'), { what: `the first part\n${cli.stderr()}` });
    const before = cli.stdout();
    await audit.write(entry(3));
    await waitFor(() => printed(cli.stdout().slice(before.length)), { what: `the followed entry\n${cli.stdout()}\n${cli.stderr()}` });
    cli.child.kill('SIGINT');
    expect(await cli.closed).toBe(0);
    return cli.stdout();
  } finally {
    cli.child.kill('SIGKILL');
  }
}

describe('riskstream audit tail -f', () => {
  it('prints followed entries as rows of the table it began with', async () => {
    const out = await follow([], (s) => s.endsWith('\n') && s.includes('user-3@example.com'));
    // The same three entries printed at once are the same table, line for line.
    const all = await runInProcess(['audit', 'tail', '-n', '3', '--config', cfg.dir]);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')).toHaveLength(5); // header, 3 rows, ''
    expect(out).toBe(all.stdout);
    expect(out).not.toContain('{"time"');
  }, 60_000);

  it('--json prints every entry, the first part and the followed ones, as one JSON object per line', async () => {
    const out = await follow(['--json'], (s) => s.includes('user-3@example.com') && s.endsWith('\n'));
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) expect(Object.keys(p)).toEqual(['time', 'action', 'actor', 'target', 'details']);
    expect(parsed.map((p) => p.target).slice(0, 2)).toEqual(['user-1@example.com', 'user-2@example.com']);
    expect(parsed.at(-1)).toMatchObject({ action: 'risk.reset', target: 'user-3@example.com', details: { reason: 'reason 3' } });
  }, 60_000);
});
