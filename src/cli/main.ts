import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { escapeControlsKeepLines } from './terminal-text.js';
import { cliErrorText } from './common.js';
import { endOnClosedStdout } from './closed-stdout.js';

/** The `riskstream` command line. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command('riskstream')
    .description('Stream-processing UEBA worker: Redis streams in, risk levels out as signed SETs')
    .version('0.1.0')
    .showHelpAfterError()
    .enablePositionalOptions();
  registerCommands(program);
  endOnClosedStdout(argv[2]);
  await program.parseAsync(argv);
}

await main().catch((err: unknown) => {
  // As the API's errors: a token given as an argument (a user, a session id) is not echoed.
  process.stderr.write(`riskstream: ${escapeControlsKeepLines(cliErrorText(err))}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
});
