import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startWorker } from '../../runtime/worker.js';
import { createLogger } from '../../obs/logger.js';
import { envLogLevelProblem, loadConfig, logLevelProblem } from '../../config/load.js';
import { isRiskstreamError, RiskstreamError } from '../../errors.js';
import { DEFAULT_CONFIG, integerIn } from '../common.js';
import { takeEarlySignals } from '../early-signals.js';

/** A stop signal again within this many ms of the first while starting is the same one, delivered twice (npm forwards what the terminal sent the group). */
const REPEATED_SIGNAL_MS = 1000;

/**
 * `riskstream worker`: the long-lived worker; drains and exits 0 on SIGTERM/SIGINT (1 when the
 * drain overran `shutdown_timeout` or failed), reloads on SIGHUP.
 */
export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('run the worker: every pipeline, SET delivery and the admin HTTP API')
    .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
    .option('--port <n>', 'HTTP port (overrides http.port)', integerIn(0, 65_535))
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (o: { config: string; port?: string; logLevel?: string }) => {
      const flagLevel = o.logLevel === undefined ? undefined : logLevelProblem(o.logLevel, '--log-level');
      if (flagLevel) throw new RiskstreamError('CONFIG_INVALID', flagLevel);
      const config = loadConfig(o.config);
      const envLevel = o.logLevel === undefined ? envLogLevelProblem() : undefined;
      if (envLevel) throw new RiskstreamError('CONFIG_INVALID', envLevel);
      // An empty RISKSTREAM_LOG_LEVEL (an unset `${…}` in a unit or compose file) is no level, as config check reads it.
      const logger = createLogger(o.logLevel ?? (process.env.RISKSTREAM_LOG_LEVEL || config.raw.log_level));
      // Signals are taken from the start: one during start-up (a rollout stopping a pod that is still
      // joining) drains once started, as any other — by default it would kill the process holding
      // its new leases and membership, which others then wait a lease ttl for.
      let early: string | undefined;
      let earlyAt = 0;
      let hupWhileStarting = false;
      let startDeadline: NodeJS.Timeout | undefined;
      let onSignal = (sig: string): void => {
        if (sig === 'SIGHUP') {
          hupWhileStarting = true;
          return void logger.warn('SIGHUP while starting: the configuration is reloaded once started');
        }
        // One Ctrl-C of `npx riskstream worker` comes twice: the terminal signals npm and the worker, and npm forwards its own.
        if (early && Date.now() - earlyAt < REPEATED_SIGNAL_MS)
          return void logger.info({ signal: sig }, 'signal repeated while starting: shutting down once started');
        // A second signal while starting (an impatient Ctrl-C): stop at once, nothing is being drained yet.
        if (early) {
          logger.warn({ signal: sig }, 'second signal while starting: exiting now');
          logger.flush?.();
          return void setTimeout(() => process.exit(1), 100);
        }
        logger.info({ signal: sig }, 'signal while starting: shutting down once started');
        early = sig;
        earlyAt = Date.now();
        // A start that does not finish (Redis not answering) is bounded like a drain: shutdown_timeout.
        const deadlineMs = config.raw.shutdown_timeout;
        startDeadline = setTimeout(() => {
          logger.error(
            { code: 'SHUTDOWN_TIMEOUT', signal: sig, deadlineMs },
            'stopped while starting: the start did not finish within shutdown_timeout; exiting',
          );
          logger.flush?.();
          setTimeout(() => process.exit(1), 200);
        }, deadlineMs);
      };
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));
      // Those that came while the modules loaded (held by bin/riskstream.js).
      for (const sig of takeEarlySignals()) onSignal(sig);
      let worker: Awaited<ReturnType<typeof startWorker>>;
      try {
        worker = await startWorker({ config, logger, configPath: o.config, ...(o.port !== undefined ? { port: Number(o.port) } : {}) });
      } catch (err) {
        // A failed start may leave connections or timers behind: exit rather than hang.
        logger.fatal({ err }, 'worker failed to start');
        logger.flush?.();
        setTimeout(() => process.exit(1), 200).unref();
        throw err;
      }
      clearTimeout(startDeadline); // the drain has its own bound
      process.stdout.write(`riskstream worker listening on ${worker.url}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: string): void => {
          // A second signal during the drain (an impatient supervisor, a double Ctrl-C) does not cut it short.
          if (stopping) return void logger.warn({ signal: sig }, 'already shutting down: the drain goes on');
          stopping = true;
          logger.info({ signal: sig }, 'shutting down');
          // The final guarantee: whatever hangs, the process ends shortly after shutdown_timeout.
          const hardMs = worker.config().raw.shutdown_timeout + 5000;
          setTimeout(() => {
            logger.fatal({ hardMs }, 'shutdown did not end; exiting');
            logger.flush?.();
            setTimeout(() => process.exit(1), 200);
          }, hardMs).unref();
          worker.close().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown error');
            process.exitCode = 1;
            resolve();
          });
        };
        const reload = (): void => {
          worker.reload().catch((err: unknown) => {
            const partly = isRiskstreamError(err) && err.details?.partly === true;
            logger.error({ err }, partly ? 'config reload failed part-way; reload again' : 'config reload refused; keeping the running configuration');
          });
        };
        onSignal = (sig) => (sig === 'SIGHUP' ? reload() : stop(sig));
        if (early) stop(early);
        else if (hupWhileStarting) reload();
        // Started by `npx riskstream worker`: through a shell that does not pass signals on (sh is
        // dash on Debian), npm exits on SIGTERM and this process is left to another parent; through
        // bash (the project's .npmrc), npm is the parent itself, and a signal npm does not pass on
        // (SIGHUP) or a SIGKILL ends npm alone. Its parent going is the SIGTERM then (README).
        if (process.env.npm_command === 'exec' && startedByNpmShell()) {
          const parent = process.ppid;
          const watch = setInterval(() => {
            if (process.ppid === parent) return;
            clearInterval(watch);
            stop('parent exited');
          }, 500);
          watch.unref();
        }
      });
      // Let pino flush, then leave even if a stray handle lingers.
      setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
    });
}

/**
 * True when this process's parent is npm exec itself (its script shell, bash, exec'd the bin), or the
 * `sh -c` npm exec runs a bin with (when that shell is not bash): not a shell of the caller's own,
 * whose exit must not stop the worker.
 */
function startedByNpmShell(): boolean {
  try {
    const argv = readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8').split('\0');
    // npm names its process `npm exec …` (process.title); else node running npm's own CLI.
    if (/^npm exec\b/.test(argv[0] ?? '') || (process.env.npm_execpath !== undefined && argv[1] === process.env.npm_execpath)) return true;
    // npm's script shell: `sh -c "'riskstream' worker …"` (the bin name quoted, then the arguments).
    const script = process.env.npm_lifecycle_script ?? '';
    return /(^|\/)(sh|dash)$/.test(argv[0] ?? '') && argv[1] === '-c' && script !== '' && (argv[2] ?? '').startsWith(script);
  } catch {
    return false; // no /proc: not Linux
  }
}
