import type { Command } from 'commander';
import { reasonParam } from '../../api/params.js';
import { knownSecrets } from '../../secrets/known-secrets.js';
import { cliActor, DEFAULT_CONFIG, DEFAULT_PAGE, integerIn, nextPageCommand, openCli, table, print, userArg } from '../common.js';
import { cliServices, type CliServices } from '../../runtime/cli-runtime.js';
import { formatDuration } from '../../duration.js';
import { MAX_PAGE, type UserRiskView } from '../../risk/service.js';
import { escapeControls } from '../terminal-text.js';
import { wants } from '../../ssf/queue.js';
import { parseLevel, type RiskLevel } from '../../types.js';

/**
 * Explains a user's level in words: each active behavior, its evidence and when it expires, then
 * the latest risk events (`recent`, newest first; a change with its reason, and an admin's reset
 * said as such). Every time says its clock: `occurred` is event
 * time (when it happened), `processed` is when riskstream recorded it.
 */
export function explain(v: UserRiskView, now = Date.now(), recent: Array<Record<string, unknown>> = []): string {
  // Each value from data stays on its line: a line feed in a summary cannot forge a line of ours.
  const one = escapeControls;
  const lines = [`${one(v.user)}: ${v.level.toUpperCase()} (version ${v.version}${v.changed_at ? `, since ${v.changed_at}, processing time` : ''})`];
  if (v.behaviors.length === 0) lines.push('  no active behaviors');
  for (const b of v.behaviors) {
    const exp = b.expires_at ? `expires in ${formatDuration(Math.max(0, Date.parse(b.expires_at) - now))} (${b.expires_at})` : 'never expires';
    const then = (b.lower ?? []).map((t) => `, then [${t.level}] until ${t.expires_at ?? 'never'}`).join('');
    lines.push(`  • ${one(b.id)} [${b.level}] ×${b.hits}, ${exp}${then}`, `      ${one(b.summary)}`, `      last hit occurred ${b.last_at} (event time)`);
  }
  if (recent.length) lines.push('  recent risk events:');
  for (const e of recent) {
    const when = one(`occurred ${String(e.occurred_at)}, processed ${String(e.processed_at ?? '?')}`);
    if (e.kind === 'change') {
      // Who changed it and why, as the API's row says: a reset reads apart from an expiry.
      const by = e.initiatingEntity === 'admin' ? ' (reset by an administrator)' : '';
      lines.push(`    change ${one(String(e.previous).toUpperCase())} → ${one(String(e.current).toUpperCase())}${by}: ${when}`);
      if (typeof e.reason === 'string' && e.reason !== '') lines.push(`      ${one(e.reason)}`);
    } else
      lines.push(
        `    hit ${one(String(e.behavior))} [${one(String(e.level))}]: ${when}${e.expired_on_arrival ? ', expired on arrival (counted no level)' : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `run` with the CLI's services; the connection is closed whatever fails, building the
 * services included (a process left with an open connection would never exit).
 */
async function withServices(configPath: string, run: (cli: Awaited<ReturnType<typeof openCli>>, s: CliServices) => Promise<void>): Promise<void> {
  const cli = await openCli(configPath);
  try {
    const s = await cliServices(cli.config, cli.redis);
    try {
      await run(cli, s);
    } finally {
      await s.close();
    }
  } finally {
    await cli.close();
  }
}

/** Prints `user`'s level explained (or its API view with `json`). */
async function show(user: string, config: string, json: boolean | undefined): Promise<void> {
  const u = userArg(user); // refused before connecting: `user: must not be empty`, `longer than 1024 characters`
  await withServices(config, async (_cli, s) => {
    const v = await s.risk.get(u);
    const recent = json ? [] : ((await s.risk.events(v.user, { limit: 5 })).events as Array<Record<string, unknown>>);
    print(json ? `${JSON.stringify(v, null, 2)}\n` : explain(v, Date.now(), recent));
  });
}

/** `riskstream risk <user>`, `risk show <user>` (any user, `list` and `reset` too), `risk reset <user>`, `risk list`. */
export function riskCommand(program: Command): void {
  const risk = program
    .command('risk')
    .description("explain a user's risk level, list users, or reset a user")
    .argument('[user]', 'user to explain (a user named list, reset or show: risk show <user>)')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .option('--json', 'print JSON')
    .action(async (user: string | undefined, o: { config: string; json?: boolean }) => {
      // No user: the help. An empty one (`risk "$U"` with U unset) is refused as `risk show ''` is, exit 1.
      if (user === undefined) return risk.help();
      await show(user, o.config, o.json);
    });
  // Options given before a subcommand (`risk -c dir list`) are risk's: the subcommands fall back to them.
  const parent = (): { config: string; json?: boolean } => risk.opts();
  risk
    .command('show <user>')
    .description("explain a user's risk level, as risk <user> does, for any user (one named list, reset or show too)")
    .option('-c, --config <path>', `config directory or file (default: risk's --config, else ${DEFAULT_CONFIG})`)
    .option('--json', 'print JSON')
    .action(async (user: string, o: { config?: string; json?: boolean }) => {
      await show(user, o.config ?? parent().config, o.json ?? parent().json);
    });
  risk
    .command('reset <user>')
    .description("clear the user's active behaviors and detector history (level low); the change is audited and shared (SET, initiating_entity admin)")
    .option('-c, --config <path>', `config directory or file (default: risk's --config, else ${DEFAULT_CONFIG})`)
    .option('--reason <text>', 'reason recorded and sent as reason_admin', '')
    .action(async (user: string, o: { config?: string; reason: string }) => {
      await withServices(o.config ?? parent().config, async (cli, s) => {
        // Checked and scrubbed as the API's (a pasted token is fingerprinted: the reason reaches every receiver).
        const reason = reasonParam({ reason: o.reason }, undefined, '', knownSecrets(cli.config));
        const r = await s.risk.reset(userArg(user), cliActor(), reason);
        // A SET only where a receiver (configured, or an enabled SSF stream) takes level changes.
        const shared = s.ssf.receivers().some((x) => wants(x, 'risk-level-change'));
        const what = !r.change ? 'unchanged' : shared ? 'SET queued' : 'no receiver takes level changes: no SET';
        print(`${r.user}: ${r.previous.toUpperCase()} → ${r.level.toUpperCase()} (version ${r.version}), ${what}\n`);
      });
    });
  risk
    .command('list')
    .description('users by level, high first')
    .option('-c, --config <path>', `config directory or file (default: risk's --config, else ${DEFAULT_CONFIG})`)
    .option('--json', 'print JSON')
    .option('--level <level>', 'only this level')
    .option('--limit <n>', 'users per page', integerIn(1, MAX_PAGE), DEFAULT_PAGE)
    .option('--cursor <cursor>', 'continue after a previous page (the cursor its more: line gives; next_cursor with --json)')
    .action(async (o: { config?: string; json?: boolean; level?: string; limit: string; cursor?: string }) => {
      await withServices(o.config ?? parent().config, async (_cli, s) => {
        const r = await s.risk.list({
          // In any case, as the API reads `?level=` (HIGH as SETs spell it); another word is refused by list().
          ...(o.level ? { level: parseLevel(o.level) ?? (o.level as RiskLevel) } : {}),
          ...(o.cursor ? { cursor: o.cursor } : {}),
          limit: Number(o.limit),
        });
        const config = o.config ?? parent().config;
        const more = r.next_cursor
          ? `more: ${nextPageCommand('risk list', r.next_cursor, { level: o.level, limit: Number(o.limit) === DEFAULT_PAGE ? undefined : o.limit, config: config === DEFAULT_CONFIG ? undefined : config })}\n`
          : '';
        print((o.json ?? parent().json) ? `${JSON.stringify(r, null, 2)}\n` : table(r.users, ['user', 'level', 'changed_at']) + more);
      });
    });
}
