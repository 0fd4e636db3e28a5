/**
 * Failpoints for tests: a worker started with `RISKSTREAM_FAILPOINTS` fails on purpose where an
 * event of a chosen id is applied or its commit built — the crash loops and failing steps that
 * poison containment (src/engine/poison-guard.ts) is for, which no well-formed input causes any more.
 * Read once, at start; off (undefined) by default, and then checked by one comparison per applied
 * partition. Never set it in production.
 *
 * Format: comma-separated `<where>:<event id>=<action>`; `where` is `apply` (while the owner applies
 * the event, outside its per-event catch) or `commit` (while the commit holding its effects is
 * built); `action` is `exit` (the process exits at once, code 86: no drain, no commit — a crash),
 * `abort` (`process.abort()`), `throw` (a RiskstreamError `INTERNAL`, as a bug would) or
 * `stall:<ms>` (busy-waits that long, blocking the event loop — a regex backtracking, a huge
 * event — then goes on). Example: `RISKSTREAM_FAILPOINTS=apply:evt-9=exit`.
 */
import { RiskstreamError } from '../errors.js';
import type { PartitionDelta } from './commit.js';
import type { RoutedItem } from './routed.js';

/** Where a failpoint fires. */
export type FailpointSite = 'apply' | 'commit';

type Action = 'exit' | 'abort' | 'throw' | `stall:${number}`;

/** The failpoints set, by site and event id (undefined: none, the default). */
export type Failpoints = Record<FailpointSite, Map<string, Action>>;

/** Parses `RISKSTREAM_FAILPOINTS` (malformed parts are ignored: this is a test hook). */
export function parseFailpoints(spec: string | undefined): Failpoints | undefined {
  if (!spec) return undefined;
  const out: Failpoints = { apply: new Map(), commit: new Map() };
  for (const part of spec.split(',')) {
    const m = /^(apply|commit):(.+)=(exit|abort|throw|stall:\d+)$/.exec(part.trim());
    if (m) out[m[1] as FailpointSite].set(m[2]!, m[3] as Action);
  }
  return out;
}

/** This process's failpoints: read once, at start. */
export const FAILPOINTS = parseFailpoints(process.env.RISKSTREAM_FAILPOINTS);

/** The action set for an event id at `site`, if any. */
export function failpointAt(site: FailpointSite, id: unknown): Action | undefined {
  return FAILPOINTS && typeof id === 'string' ? FAILPOINTS[site].get(id) : undefined;
}

/** Fails as `action` says (a crash, a throw, or a stall, after which it returns) at `site` for event `id`. */
export function fail(action: Action, site: FailpointSite, id: string): void {
  if (action.startsWith('stall:')) {
    const until = performance.now() + Number(action.slice('stall:'.length));
    while (performance.now() < until); // blocks the event loop, as a runaway apply does
    return;
  }
  if (action === 'exit') process.exit(86);
  if (action === 'abort') process.abort();
  throw new RiskstreamError('INTERNAL', `failpoint ${site}:${id}`);
}

/** Test failpoints (src/engine/failpoints.ts) of the items' events: apply's fire now, commit's when `d` is committed. */
export function firePoints(routed: readonly RoutedItem[], d: PartitionDelta): void {
  for (const it of routed) {
    const id = 'e' in it ? it.e.id : undefined;
    const now = failpointAt('apply', id);
    if (now) fail(now, 'apply', id!);
    const later = failpointAt('commit', id);
    if (later) d.failpoint = () => fail(later, 'commit', id!);
  }
}
