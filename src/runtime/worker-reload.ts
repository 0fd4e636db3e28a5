import type { AuditLog } from '../audit/audit-log.js';
import { loadConfig, type Config } from '../config/load.js';
import { configFilesGone, keepStartOnly, keyRefusal, reloadIssues, startOnlyChanges } from '../config/reload.js';
import { KeyRing } from '../ssf/key-ring.js';
import { ensureImplicitKeys } from '../ssf/signing-key-file.js';
import { configChanges } from '../config/changes.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import { RiskstreamError } from '../errors.js';
import type { ConfigState } from './config-state.js';

/**
 * Loads the configuration at `path` for a reload: refused (audited, counted, thrown) when it does not
 * load, would drop the admins' behaviors file, or names signing keys that cannot be read (or that
 * `checkKeys` refuses: CONFIG_INVALID located at the setting naming the key, as `config check` reports it);
 * a missing implicit key (src/ssf/implicit-keys.ts) is generated first. Returns it, with the key ring it checked (to apply: the files are read once),
 * and with the start-only settings it changes kept at their running values (logged: they wait for a restart).
 */
export async function loadForReload(
  path: string,
  current: Config,
  o: { audit: AuditLog; metrics: Metrics; logger: Logger; checkKeys?: (ring: KeyRing) => Promise<void> },
): Promise<{ next: Config; ignored: string[]; ring: KeyRing }> {
  let next: Config;
  let ring: KeyRing;
  try {
    next = loadConfig(path);
    const refused = configFilesGone(current, next);
    if (refused) throw refused;
    // The signing keys too, before anything is swapped: a key file that cannot be read refuses the
    // whole reload (it would otherwise apply half of it: tokens and issuer, not the keys).
    // And against the keys the deployment publishes (a kid naming another key still published).
    // The ring checked is the ring applied: the key files are read once (a file rewritten, or no longer
    // readable, since would otherwise be applied unchecked, or fail the reload half applied).
    // A receiver added signing with an alg no configured key has (kind okta: RS256) gets its implicit
    // key, generated when missing as at a first start (a changed key_file that is missing is refused).
    await ensureImplicitKeys(next, o.logger).catch((err: unknown) => Promise.reject(keyRefusal(err, next)));
    ring = await KeyRing.fromConfig(next).catch((err: unknown) => Promise.reject(keyRefusal(err, next)));
    await o.checkKeys?.(ring).catch((err: unknown) => Promise.reject(keyRefusal(err, next)));
  } catch (err) {
    await refused(err, o);
    throw err;
  }
  const ignored = startOnlyChanges(current.raw, next.raw);
  if (!ignored.length) return { next, ignored, ring };
  o.logger.warn({ settings: ignored }, 'configuration reloaded, but these settings are read only at start: restart the worker to change them');
  return { next: keepStartOnly(current, next), ignored, ring };
}

/**
 * Runs `record` (the behaviors a reload turns off and on, written to Redis before it applies:
 * src/runtime/behaviors-turned.ts) for a configuration {@link loadForReload} accepted. When Redis
 * refuses the write, the reload is refused as one that does not load is — counted, audited,
 * thrown (INTERNAL) — before anything of it applies: the running configuration stays.
 */
export async function recordForReload(record: () => Promise<unknown>, o: { audit: AuditLog; metrics: Metrics }): Promise<void> {
  try {
    await record();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const e = new RiskstreamError('INTERNAL', `could not record the behaviors the reload turns off and on: ${why}`);
    await refused(e, o);
    throw e;
  }
}

/**
 * Counts (`failed`) and audits (`config.reload_failed`, best effort) a reload that failed once part of
 * it applied; returns the error to throw: INTERNAL with `details.partly` (the worker logs it as such).
 */
async function failedPartWay(err: unknown, o: { audit: AuditLog; metrics: Metrics }): Promise<RiskstreamError> {
  o.metrics.configReloads.inc({ result: 'failed' });
  const issues = reloadIssues(err);
  await o.audit.write({ action: 'config.reload_failed', actor: 'system', details: { issues } }).catch(() => undefined);
  return new RiskstreamError('INTERNAL', `the reload failed part-way: ${issues[0]}`, { partly: true }); // its message holds err's
}

/** Counts and audits (best effort: an audit write that fails refuses nothing more) a refused reload. */
async function refused(err: unknown, o: { audit: AuditLog; metrics: Metrics }): Promise<void> {
  o.metrics.configReloads.inc({ result: 'refused' });
  await o.audit.write({ action: 'config.reload_refused', actor: 'system', details: { issues: reloadIssues(err) } }).catch(() => undefined);
}

/**
 * `fn` run one call at a time, each after the one before has settled (applied or refused): two
 * reloads in a row (SIGHUP twice) each load the files as they are when it starts, against the
 * configuration the one before left in force. Calls (with the same argument) that come while a
 * run waits for its turn join it — it reads the files when it starts —, so a burst of SIGHUPs
 * during a reload makes one more reload, not one each.
 */
export function oneAtATime<A>(fn: (a: A) => Promise<void>): (a: A) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  let unsettled = 0;
  let waiting: { a: A; run: Promise<void> } | undefined;
  return (a) => {
    if (waiting && waiting.a === a) return waiting.run;
    const behind = unsettled > 0;
    unsettled++;
    const entry: { a: A; run: Promise<void> } = { a, run: Promise.resolve() };
    entry.run = last
      .then(() => {
        if (waiting === entry) waiting = undefined;
        return fn(a);
      })
      .finally(() => unsettled--);
    if (behind) waiting = entry;
    last = entry.run.catch(() => undefined);
    return entry.run;
  };
}

/** Audits (with what it changed in behaviors and receivers against `prev`), counts and logs a reload that was applied. */
export async function reloaded(
  prev: Config,
  next: Config,
  ignored: string[],
  o: { audit: AuditLog; metrics: Metrics; logger: Logger; workerId?: string },
): Promise<void> {
  const changes = configChanges(prev, next);
  await o.audit.write({
    action: 'config.reloaded',
    actor: 'system',
    details: {
      // Each worker reloads its own copy: which one this was (the others may still run the old one).
      ...(o.workerId ? { worker: o.workerId } : {}),
      files: next.files,
      behaviors: next.behaviors.map((b) => `${b.id}:${b.enabled ? b.risk_level : 'off'}`),
      receivers: next.receivers.map((r) => r.name),
      // Added, removed, and changed fields by name (a receiver's rotated credential as `authorization`, never its value).
      ...(Object.keys(changes).length ? { changes } : {}),
      ...(ignored.length ? { ignored_until_restart: ignored } : {}),
    },
  });
  o.metrics.configReloads.inc({ result: 'applied' });
  o.logger.info({ files: next.files }, 'configuration reloaded');
}

/** What {@link workerReloads} reloads. */
export interface ReloadDeps {
  /** The configuration in force. */
  running(): Config;
  /** Where to read a reload's files from (`path`, if given, else the worker's configuration path). */
  pathOf(path?: string): string;
  /** Puts `next` in force (the engine, tokens and decoding take it). */
  apply(next: Config): void;
  /** Records the behaviors `next` turns off and on against `prev` (src/runtime/behaviors-turned.ts). */
  record(next: Config, prev: Config): Promise<unknown>;
  ssf: { checkKeys(ring: KeyRing): Promise<void>; reload(cancelled: () => boolean, ring: KeyRing): Promise<void> };
  /** True once the worker drains for shutdown. */
  stopping(): boolean;
  state: ConfigState;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  workerId: string;
}

/**
 * The worker's reloads, one at a time: refused whole before anything applies, or applied; one
 * whose files were read while the drain began applies nothing. `settled()`: when every reload
 * asked for so far has settled (the close waits for it).
 */
export function workerReloads(d: ReloadDeps): { reload(path?: string): Promise<void>; settled(): Promise<void> } {
  const { audit, metrics, logger } = d;
  const once = async (path?: string): Promise<void> => {
    const prev = d.running();
    let applied: { next: Config; ignored: string[]; ring: KeyRing };
    try {
      applied = await loadForReload(d.pathOf(path), prev, { audit, metrics, logger, checkKeys: (ring) => d.ssf.checkKeys(ring) });
      // The drain began while the files were read: nothing applies (the close waits for this reload).
      if (d.stopping()) return void logger.warn('reload cancelled: the worker is shutting down');
      // Before any batch is judged with it; Redis refusing the write refuses the reload.
      await recordForReload(() => d.record(applied.next, prev), { audit, metrics });
      d.apply(applied.next);
      await d.ssf.reload(() => d.stopping(), applied.ring); // a drain begun meanwhile: no SET delivery started again
    } catch (err) {
      const partly = d.running() !== prev; // refused whole, or failed once part of it applied
      d.state.failed(Date.now(), partly);
      if (partly) throw await failedPartWay(err, { audit, metrics });
      throw err;
    }
    d.state.applied(Date.now());
    await reloaded(prev, applied.next, applied.ignored, { audit, metrics, logger, workerId: d.workerId });
  };
  const queued = oneAtATime(async (path?: string) => {
    // Draining: the configuration would serve nothing more, and its writes race the close.
    if (d.stopping()) return void logger.warn('reload skipped: the worker is shutting down');
    await once(path);
  });
  let last: Promise<void> = Promise.resolve();
  return {
    reload: (path) => {
      const run = queued(path);
      last = run.catch(() => undefined); // settles after every reload queued before it
      return run;
    },
    settled: () => last,
  };
}
