/** A user's SET delivery outcomes per receiver, in words, as the timeline shows them under each change. */
import { api, qs, type DeliveriesView, type Delivery } from '../../api.js';
import { h } from '../../dom.js';
import { duration } from '../../format.js';
import { errorText, time } from '../../ui.js';

/** Delivery records read at most (the newest of the user's, back to the oldest risk event shown). */
export const DELIVERIES_READ = 500;

/** What was read of a user's delivery records. */
export interface Deliveries {
  list: Delivery[];
  /** When the read stopped at DELIVERIES_READ records: the time (ms) of the oldest one read; older SETs' records were not read. */
  from: number | null;
  /** The read failed (why, in words): no outcome is known, none is "not recorded". */
  error: string | null;
}

/** The user's delivery records back to `since` (ms; a minute before the oldest risk event shown). Never throws: a failure is kept as `error`. */
export async function readDeliveries(base: string, since: number | undefined): Promise<Deliveries> {
  try {
    const list = (await api<DeliveriesView>(`${base}/deliveries${qs({ limit: DELIVERIES_READ, since })}`)).deliveries;
    const from = list.length >= DELIVERIES_READ ? Date.parse(list[list.length - 1]!.time ?? '') || null : null;
    return { list, from, error: null };
  } catch (err) {
    return { list: [], from: null, error: errorText(err) };
  }
}

const OUTCOME_TEXT: Record<string, string> = {
  delivered: 'delivered',
  superseded: 'superseded by a newer level',
  retry: 'retrying',
  rate_limited: 'rate limited, retrying',
  rejected: 'rejected',
  unauthorized: 'refused our authorization',
  expired: 'gave up (retry horizon passed)',
  receiver_disabled: 'receiver disabled',
  unknown_receiver: 'receiver no longer configured',
  no_signing_key: 'no signing key',
};

function outcomeClass(d: Delivery): string {
  if (d.action === 'set.delivered') return 'ok';
  if (d.action === 'set.failed') return 'bad';
  if (d.action === 'set.superseded') return 'muted';
  return 'warn';
}

/** One receiver's latest attempt for one SET, in words. */
function deliveryLine(receiver: string, attempts: Delivery[]): HTMLElement {
  const last = attempts[0]!;
  const retrying = last.action === 'set.retry';
  const words = retrying
    ? last.outcome === 'rate_limited'
      ? 'rate limited, retrying'
      : 'retrying'
    : (OUTCOME_TEXT[last.outcome] ?? last.outcome.replace(/_/g, ' '));
  const tries = last.attempts ?? attempts.length;
  const extra = [
    last.status !== undefined ? `HTTP ${last.status}` : null,
    retrying && !['retry', 'rate_limited', 'http'].includes(last.outcome) ? last.outcome.replace(/_/g, ' ') : null,
    last.err ? `${last.err}${last.description ? `: ${last.description}` : ''}` : (last.description ?? null),
    last.message && last.message !== `HTTP ${last.status}` ? last.message : null,
    last.delay_ms !== undefined ? `next try in ${duration(last.delay_ms)}` : null,
    tries > 1 ? `attempt ${tries}` : null,
  ].filter(Boolean);
  return h(
    'li',
    { class: `delivery delivery-${outcomeClass(last)}`, 'data-receiver': receiver },
    h('span', { class: 'mono' }, receiver),
    ': ',
    h('strong', null, words),
    extra.length ? ` (${extra.join(', ')})` : '',
    ' · ',
    time(last.time),
  );
}

/**
 * One SET's outcomes per receiver. `unread`: the SET is older than the oldest delivery record read
 * (the newest DELIVERIES_READ were read); `error`: the records could not be read at all.
 */
export function deliveriesFor(list: Delivery[], unread = false, error: string | null = null): HTMLElement {
  const byReceiver = new Map<string, Delivery[]>();
  for (const d of list) {
    const r = d.receiver ?? '?';
    if (!byReceiver.has(r)) byReceiver.set(r, []);
    byReceiver.get(r)!.push(d);
  }
  if (!byReceiver.size && error !== null) return h('p', { class: 'error small', 'data-deliveries': 'error' }, `Delivery outcome could not be read: ${error}`);
  if (!byReceiver.size)
    return h(
      'p',
      { class: 'muted small' },
      unread
        ? `Delivery outcome not read: older than this user's newest ${DELIVERIES_READ} delivery records (the audit log holds it: action set, target the user).`
        : 'No SET delivery recorded yet.',
    );
  return h(
    'ul',
    { class: 'deliveries', 'aria-label': 'SET deliveries per receiver' },
    [...byReceiver.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, ds]) => deliveryLine(r, ds)),
  );
}
