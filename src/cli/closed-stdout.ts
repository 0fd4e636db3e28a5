/**
 * Commands that go on when their stdout's reader went away: the worker (it writes only its
 * `listening on` line there; its logs go to stderr) and the demo (it must still stop its worker,
 * purge its keys and stop the redis-server it started — an exit there left them all behind).
 */
const GOES_ON: ReadonlySet<string> = new Set(['worker', 'demo']);

/**
 * What the CLI does when the reader of its stdout went away (`riskstream audit tail -f | head -5`,
 * `riskstream sessions list | head`): a one-shot command ends at its next write (EPIPE: a process
 * learns it no other way; a follow, when its next entry comes), quietly, with its exit code so far —
 * as a pipeline expects, not with node's stack trace for an unhandled EPIPE and exit 1. Those in {@link GOES_ON} go on, their output dropped. Any other error of
 * stdout stays fatal.
 */
export function endOnClosedStdout(command: string | undefined, out: NodeJS.WriteStream = process.stdout): void {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (!GOES_ON.has(command ?? '')) process.exit(process.exitCode ?? 0);
  });
}
