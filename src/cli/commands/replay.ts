import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { replayFile } from '../../ingest/replay.js';
import { ownStreamRole } from '../../config/stream-names.js';
import { RiskstreamError } from '../../errors.js';
import { DEFAULT_CONFIG, openCli, positiveNumber, print } from '../common.js';

/** Records that are no JSON object told line by line, at most this many (then only counted). */
const NOT_OBJECT_SHOWN = 20;
/** The exit code of a replay a signal stopped: 128 + its number, as the shell reports one it killed. */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A line number (1 or more). */
function lineNumber(value: string): number {
  if (!/^\s*[1-9]\d*\s*$/.test(value)) throw new InvalidArgumentError('must be a line number (1 or more)');
  return Number(value);
}

/** `riskstream replay <file.ndjson>`: appends events to the input streams. */
export function replayCommand(program: Command): void {
  program
    .command('replay <file>')
    .description('append the events of an NDJSON file (gzip too; "-": standard input) to the input streams')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .option('--stream <name>', 'send every event to this stream (default: logins → login stream, others → activity)')
    .option('--rate <n>', 'events per second (default: as fast as possible)', positiveNumber)
    .option('--rebase', 'shift timestamps so the newest event is now (without it, old events are a backfill: their hits may arrive already expired)')
    .option('--from-line <n>', 'start at this line of the file (resumes a replay stopped or failed after the line before it)', lineNumber)
    .action(async (file: string, o: { config: string; stream?: string; rate?: string; rebase?: boolean; fromLine?: number }) => {
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
      // A bridged list's key: an XADD there would make it a stream, and the bridge fail on it (or WRONGTYPE).
      const bridged = o.stream === undefined ? undefined : Object.entries(cli.config.raw.bridge.lists).find(([list]) => list === o.stream)?.[1];
      if (bridged !== undefined) {
        await cli.close();
        throw new RiskstreamError(
          'BAD_REQUEST',
          `--stream ${JSON.stringify(o.stream)} is a list the bridge moves into ${JSON.stringify(bridged)} (bridge.lists): replay to that stream`,
        );
      }
      if (o.stream && !cli.config.streams.inputs.includes(o.stream)) {
        process.stderr.write(
          `warning: ${JSON.stringify(o.stream)} is not one of the worker's input streams (${cli.config.streams.inputs.join(', ')}; more in streams.extra): the worker will not read these events\n`,
        );
      }
      // Ctrl-C or a stop: the lines read are appended whole, then what was appended is said (not killed midway).
      const stop = new AbortController();
      let signal: string | undefined;
      const onSignal = (sig: string): void => {
        // A second one: stop at once (a Redis that does not answer), as without this handler.
        if (signal) process.exit(SIGNAL_EXIT[sig]);
        signal = sig;
        stop.abort();
      };
      for (const sig of Object.keys(SIGNAL_EXIT)) process.on(sig, onSignal);
      let notObjects = 0;
      try {
        const r = await replayFile(cli.redis, cli.config.streams, file, {
          ...(o.stream ? { stream: o.stream } : {}),
          ...(o.rate ? { rate: Number(o.rate) } : {}),
          ...(o.rebase ? { rebase: Date.now(), span: cli.config.raw.ingest.max_past } : {}),
          ...(o.fromLine ? { from: o.fromLine } : {}),
          signal: stop.signal,
          onNotObject: (line, why) => {
            if (++notObjects <= NOT_OBJECT_SHOWN)
              process.stderr.write(`${tty ? '\n' : ''}warning: line ${line}: ${why}: appended as it is, the worker dead-letters it\n`);
          },
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
        if (notObjects > NOT_OBJECT_SHOWN)
          process.stderr.write(`warning: ${notObjects} records in all are no JSON object (the first ${NOT_OBJECT_SHOWN} shown)\n`);
        print(
          `replayed ${r.sent} events: ${Object.entries(r.byStream)
            .map(([s, n]) => `${s}=${n}`)
            .join(' ')}\n`,
        );
        if (r.stopped) {
          process.stderr.write(
            `riskstream: stopped by ${signal ?? 'a signal'}: lines up to ${r.through} were appended whole: --from-line ${r.through + 1} resumes after them\n`,
          );
          process.exitCode = SIGNAL_EXIT[signal ?? ''] ?? 1;
        }
      } finally {
        for (const sig of Object.keys(SIGNAL_EXIT)) process.off(sig, onSignal);
        await cli.close();
      }
    });
}
