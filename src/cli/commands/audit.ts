import type { Command } from 'commander';
import { AuditLog, actionFilter, matchesAction } from '../../audit/audit-log.js';
import { DEFAULT_CONFIG, integerIn, openCli, table, tableLayout, print } from '../common.js';

/** Most pages `audit tail --action` reads looking for a rare action (each reads ≥ 10 000 entries). */
const MAX_PAGES = 100;

const COLUMNS = ['time', 'action', 'actor', 'target', 'details'];

/**
 * `riskstream audit tail [-f] [--json]`: the newest audit entries, optionally following new ones,
 * as a table (followed entries as its rows) or, with `--json`, as JSON lines throughout.
 */
export function auditCommand(program: Command): void {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('tail')
    .description('print the newest audit entries (-f to follow)')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .option('-n, --lines <n>', 'how many', integerIn(1, 10_000), 20)
    .option('-f, --follow', 'keep printing new entries')
    .option('--action <prefix>', 'only these actions: a name (risk.reset) or those under it (set, session, risk; any case)')
    .option('--json', 'print one JSON object per line')
    .action(async (o: { config: string; lines: string; follow?: boolean; action?: string; json?: boolean }) => {
      const cli = await openCli(o.config);
      const log = new AuditLog(cli.redis, cli.config.streams.audit);
      const row = (e: Awaited<ReturnType<AuditLog['list']>>['entries'][number]): Record<string, unknown> => ({
        time: new Date(e.time).toISOString(),
        action: e.action,
        actor: e.actor,
        target: e.target ?? '',
        details: e.details,
      });
      try {
        // Where -f follows from: the log's newest entry before it is listed ('$' would miss what is
        // appended between this read and the first XREAD, or between two XREADs while none came).
        const top = o.follow ? ((await cli.redis.xrevrange(cli.config.streams.audit, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0') : '0-0';
        // A rare action's page may come back short with a cursor (src/audit/audit-log.ts): follow it.
        const entries: Awaited<ReturnType<AuditLog['list']>>['entries'] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await log.list({ count: Number(o.lines) - entries.length, ...(o.action ? { action: o.action } : {}), ...(cursor ? { cursor } : {}) });
          entries.push(...page.entries);
          cursor = page.next;
          pages++;
        } while (cursor !== undefined && entries.length < Number(o.lines) && pages < MAX_PAGES);
        const rows = entries.reverse().map(row);
        // Followed entries print as the rows of the table above (its header alone when it had none).
        const layout = tableLayout(rows, COLUMNS);
        const format = (r: Record<string, unknown>): string => `${o.json ? JSON.stringify(r) : layout.line(r)}\n`;
        if (o.json) print(rows.map(format).join(''));
        else print(o.follow && !rows.length ? `${layout.header}\n` : table(rows, COLUMNS));
        if (!o.follow) return;
        let last = entries[entries.length - 1]?.id ?? top;
        const action = actionFilter(o.action);
        let stop = false;
        process.once('SIGINT', () => (stop = true));
        while (!stop) {
          const res = (await cli.redis.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', cli.config.streams.audit, last)) as Array<
            [string, Array<[string, string[]]>]
          > | null;
          for (const [, rows] of res ?? []) {
            for (const [id, f] of rows) {
              last = id;
              const e = AuditLog.parse(id, f);
              if (matchesAction(e.action, action)) print(format(row(e)));
            }
          }
        }
      } finally {
        await cli.close();
      }
    });
}
