import type { Command } from 'commander';
import { replayFile } from '../../ingest/replay.js';
import { ownStreamRole } from '../../config/stream-names.js';
import { RiskstreamError } from '../../errors.js';
import { DEFAULT_CONFIG, openCli, positiveNumber, print } from '../common.js';

/** `riskstream replay <file.ndjson>`: appends events to the input streams. */
export function replayCommand(program: Command): void {
  program
    .command('replay <file>')
    .description('append the events of an NDJSON file to the input streams')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .option('--stream <name>', 'send every event to this stream (default: logins → login stream, others → activity)')
    .option('--rate <n>', 'events per second (default: as fast as possible)', positiveNumber)
    .option('--rebase', 'shift timestamps so the newest event is now (without it, old events are a backfill: their hits may arrive already expired)')
    .action(async (file: string, o: { config: string; stream?: string; rate?: string; rebase?: boolean }) => {
      // `--stream "$STREAM"` with the variable unset: not the default routing the caller did not ask for.
      if (o.stream !== undefined && o.stream.trim() === '')
        throw new RiskstreamError('BAD_REQUEST', '--stream must name a stream (leave it out for the default routing)');
      const cli = await openCli(o.config);
      const tty = process.stderr.isTTY;
      const own = o.stream === undefined ? undefined : ownStreamRole(cli.config.streams, cli.config.prefix, o.stream);
      if (own) {
        await cli.close();
        throw new RiskstreamError('BAD_REQUEST', `--stream ${JSON.stringify(o.stream)} is ${own}, riskstream's own: events go to an input stream`);
      }
      if (o.stream && !cli.config.streams.inputs.includes(o.stream)) {
        process.stderr.write(
          `warning: ${JSON.stringify(o.stream)} is not one of the worker's input streams (${cli.config.streams.inputs.join(', ')}; more in streams.extra): the worker will not read these events\n`,
        );
      }
      try {
        const r = await replayFile(cli.redis, cli.config.streams, file, {
          ...(o.stream ? { stream: o.stream } : {}),
          ...(o.rate ? { rate: Number(o.rate) } : {}),
          ...(o.rebase ? { rebase: Date.now(), span: cli.config.raw.ingest.max_past } : {}),
          onOutliers: (n) =>
            void process.stderr.write(
              `warning: --rebase: ${n} event(s) lie outside the ${cli.config.raw.ingest.max_past / 86_400_000}-day stretch holding most of the file's times (ingest.max_past): they stay that far from the rest, so the worker dead-letters them (time out of range)\n`,
            ),
          mapping: cli.config.raw.mapping,
          onProgress: (sent, total) => {
            if (!tty) return;
            if (total === undefined) return void process.stderr.write(`\r${sent} sent`);
            const w = 30;
            const done = Math.round((sent / total) * w);
            process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(w - done)}] ${sent}/${total}`);
          },
        });
        if (tty) process.stderr.write('\n');
        print(
          `replayed ${r.sent} events: ${Object.entries(r.byStream)
            .map(([s, n]) => `${s}=${n}`)
            .join(' ')}\n`,
        );
      } finally {
        await cli.close();
      }
    });
}
