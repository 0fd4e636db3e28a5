import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../obs/logger.js';
import type { Config } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import type { RouteReport } from '../engine/router-types.js';

/** Messages to the router thread. */
export type RouterThreadIn = { type: 'start'; token: string } | { type: 'stop' } | { type: 'reload'; config: Config } | { type: 'shutdown' };
/** Messages from the router thread. */
export type RouterThreadOut =
  | { type: 'ready' }
  | { type: 'report'; report: RouteReport }
  | { type: 'error' }
  /** The router was refused by a fence of a newer lease epoch (RouterParts.onFenced). */
  | { type: 'fenced'; epoch: number }
  /** Entries the thread dead-lettered, per input stream (counted in this thread's metrics). */
  | { type: 'deadLettered'; streams: Record<string, number> }
  /** Events the thread accepted with a value taken as absent, per reason (DecodeOptions.onCoerced), since its last report. */
  | { type: 'coerced'; reasons: Record<string, number> };

/** What the host tells its engine. */
export interface RouterHostHooks {
  onReport(r: RouteReport): void;
  onError(): void;
  onDeadLettered(stream: string, n: number): void;
  onCoerced?(reason: string, n: number): void;
  onFenced(epoch: number): void;
}

/** The thread's entry: beside this module (.ts under tsx, .js when built). */
const ENTRY = new URL(`./router-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * What a Worker is started from: the entry itself when built; from source, a bootstrap module that
 * registers tsx in the thread first (a thread does not inherit the parent's module hooks).
 */
function entryModule(): URL {
  if (!ENTRY.pathname.endsWith('.ts')) return ENTRY;
  // tsx's ESM entry (import.meta.resolve is missing under a test runner's transform: then its
  // `import` export, beside the `require` one that createRequire finds).
  const tsx =
    typeof import.meta.resolve === 'function'
      ? import.meta.resolve('tsx/esm/api')
      : pathToFileURL(
          createRequire(import.meta.url)
            .resolve('tsx/esm/api')
            .replace(/\.cjs$/, '.mjs'),
        ).href;
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(ENTRY.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

/**
 * Diagnostics only, in a process run with `--expose-gc` (the memory benchmark): a `gc` message on
 * this BroadcastChannel makes the router thread collect its heap fully and answer `gc-done`, so a
 * memory sample measures what every thread retains, not where their collectors happen to be.
 */
export const GC_CHANNEL = 'riskstream:diagnostics:gc';

/** Restarts of a thread that ended on its own are spaced by this much. */
const RESTART_MS = 1000;
/**
 * The router thread's young generation (MB; V8's default is 48: 16 MB semi-spaces). A routing step
 * holds its decoded input until its partition entries are written, so with the default semi-spaces
 * most steps were still alive at a scavenge and copied, then promoted and marked: 20–40 % of the
 * router thread's garbage-collection time went (bench/RESULTS.md). The space grows only as used.
 */
const ROUTER_YOUNG_GENERATION_MB = 192;

/**
 * The main thread's handle on the router thread (`engine.router_thread`): forwards the router
 * lease (start with its token, stop), reloads and shutdown, and hands the thread's step reports to
 * `onReport`. A thread that dies is restarted (its entries stay pending; the restarted router
 * re-reads them in order) and told the lease again if this worker still holds it.
 */
export class RouterHost {
  private worker!: Worker;
  private token: string | null = null;
  private closing = false;
  private exited!: Promise<void>;

  constructor(
    private readonly logger: Logger,
    private readonly hooks: RouterHostHooks,
    /**
     * The worker's running configuration, handed to the thread as it is (never read again from the
     * files): a restarted thread routes as the owners apply, whatever the files now hold.
     */
    private readonly running: () => Config,
  ) {
    this.spawn();
  }

  /** True while this worker holds the router lease (the thread routes). */
  get active(): boolean {
    return this.token !== null;
  }

  /** Resolves once the thread has loaded its config and connected (it then waits for the lease). */
  ready!: Promise<void>;

  private spawn(): void {
    const w = new Worker(entryModule(), {
      // The thread logs at this worker's level (--log-level / RISKSTREAM_LOG_LEVEL may differ from the file's).
      workerData: { config: this.running(), logLevel: this.logger.level },
      resourceLimits: { maxYoungGenerationSizeMb: ROUTER_YOUNG_GENERATION_MB },
    });
    this.worker = w;
    this.ready = new Promise((resolve, reject) => {
      w.on('message', (m: RouterThreadOut) => {
        if (m.type === 'ready') {
          this.logger.info('router thread ready: routing runs in a thread of its own');
          resolve();
        } else if (m.type === 'report') this.hooks.onReport(m.report);
        else if (m.type === 'fenced') this.hooks.onFenced(m.epoch);
        else if (m.type === 'deadLettered') for (const [stream, n] of Object.entries(m.streams)) this.hooks.onDeadLettered(stream, n);
        else if (m.type === 'coerced') for (const [reason, n] of Object.entries(m.reasons)) this.hooks.onCoerced?.(reason, n);
        else this.hooks.onError();
      });
      w.once('exit', () => reject(new RiskstreamError('INTERNAL', 'router thread ended before it was ready')));
    });
    this.ready.catch(() => undefined);
    w.on('error', (err) => this.logger.error({ err }, 'router thread failed'));
    this.exited = new Promise((resolve) =>
      w.once('exit', (code) => {
        resolve();
        if (this.closing) return;
        this.logger.error({ code }, 'router thread ended; restarting it');
        setTimeout(() => {
          if (this.closing) return;
          this.spawn();
          if (this.token) this.post({ type: 'start', token: this.token });
        }, RESTART_MS).unref();
      }),
    );
  }

  private post(m: RouterThreadIn): void {
    this.worker.postMessage(m);
  }

  /** Routes under lease `token`. */
  start(token: string): void {
    this.token = token;
    this.post({ type: 'start', token });
  }

  /** Stops routing (lease lost or released). */
  stop(): void {
    this.token = null;
    this.post({ type: 'stop' });
  }

  /** The thread takes the worker's running configuration (after a reload the worker applied). */
  reload(): void {
    this.post({ type: 'reload', config: this.running() });
  }

  /** Ends the thread after its last step's writes (terminated past `graceMs`: its entries stay pending). */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    this.token = null;
    this.post({ type: 'shutdown' });
    const timer = setTimeout(() => {
      this.logger.warn({ graceMs }, 'router thread did not end in time: terminated (its unacked entries stay pending)');
      void this.worker.terminate();
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
