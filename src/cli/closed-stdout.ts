/**
 * What the CLI does when the reader of its stdout went away (`riskstream audit tail -f | head -5`,
 * `riskstream sessions list | head`): a one-shot command ends at once, quietly, with its exit code
 * so far — as a pipeline expects, not with node's stack trace for an unhandled EPIPE and exit 1, nor
 * a follow that never ends. The worker, which writes only its `listening on` line there (its logs
 * go to stderr), goes on. Any other error of stdout stays fatal.
 */
export function endOnClosedStdout(command: string | undefined, out: NodeJS.WriteStream = process.stdout): void {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (command !== 'worker') process.exit(process.exitCode ?? 0);
  });
}
