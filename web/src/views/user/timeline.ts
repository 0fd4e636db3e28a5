/** A user's timeline: level changes and detections, newest first as processed, with each SET's outcome per receiver. */
import type { Delivery, RiskChangeEvent, RiskEvent } from '../../api.js';
import { h, type Child } from '../../dom.js';
import { humanize, travelWords } from '../../format.js';
import { levelBadge, time } from '../../ui.js';
import { deliveriesFor, type Deliveries } from './deliveries.js';
import { processedMs } from './events.js';

/** "happened … · processed …": both clocks, each named (the same moment: one time). */
function clocks(occurred: string | number | null | undefined, processed: string | number | null | undefined): Child[] {
  const o = occurred ?? null;
  const p = processed ?? null;
  if (p === null || o === null || Date.parse(String(o)) === Date.parse(String(p))) return [' · ', time(o ?? p)];
  return [' · happened ', time(o), h('span', { class: 'muted' }, ' · processed '), time(p)];
}

function changeItem(c: RiskChangeEvent, d: Deliveries): HTMLElement {
  const ds = d.list.filter((x) => x.event === 'risk-level-change' && x.version === c.version);
  const unread = d.from !== null && processedMs(c) < d.from;
  return h(
    'li',
    { class: 'tl-item tl-change', 'data-version': c.version, 'data-id': c.id },
    h(
      'div',
      { class: 'tl-head' },
      h('strong', null, 'Level '),
      levelBadge(c.previous),
      ' → ',
      levelBadge(c.current),
      h('span', { class: 'muted' }, ` · version ${c.version} · by ${c.initiatingEntity}`),
      ...clocks(c.occurred_at ?? c.time, c.processed_at ?? c.time),
    ),
    c.reason ? h('p', { class: 'tl-reason' }, c.reason) : null,
    deliveriesFor(ds, unread, d.error),
  );
}

function hitItem(e: Extract<RiskEvent, { kind: 'hit' }>): HTMLElement {
  return h(
    'li',
    { class: `tl-item tl-hit${e.expired_on_arrival ? ' tl-expired' : ''}`, 'data-id': e.id },
    h(
      'div',
      { class: 'tl-head' },
      h('strong', null, humanize(e.behavior)),
      ' detected ',
      levelBadge(e.level),
      ...clocks(e.occurred_at ?? e.time, e.processed_at),
    ),
    h('p', { class: 'tl-reason' }, travelWords(e.evidence ?? {}) ?? e.summary),
    e.expired_on_arrival
      ? h(
          'p',
          { class: 'muted small' },
          'Arrived already expired (it stopped counting at ',
          time(e.expires_at),
          '): recorded, but it raised no level and sent no SET.',
        )
      : null,
  );
}

/** The timeline of `events` (newest first), with the delivery records read. */
export function timeline(events: RiskEvent[], d: Deliveries): HTMLElement {
  type Item = { time: number; key: string; node: HTMLElement };
  const items: Item[] = [];
  for (const e of events) {
    if (e.kind === 'change') items.push({ time: processedMs(e), key: e.id, node: changeItem(e, d) });
    else if (e.kind === 'hit') items.push({ time: processedMs(e), key: e.id, node: hitItem(e) });
  }
  const revoked = new Map<string, Delivery[]>();
  for (const x of d.list) {
    if (x.event !== 'session-revoked') continue;
    const k = x.session_id ?? '?';
    if (!revoked.has(k)) revoked.set(k, []);
    revoked.get(k)!.push(x);
  }
  for (const [sid, ds] of revoked) {
    const t = Date.parse(ds[ds.length - 1]!.time ?? '') || 0;
    items.push({
      time: t,
      key: `rev:${sid}`,
      node: h(
        'li',
        { class: 'tl-item tl-revoke' },
        h('div', { class: 'tl-head' }, h('strong', null, 'Session revoked '), h('span', { class: 'mono' }, sid), ' · ', time(t)),
        deliveriesFor(ds),
      ),
    });
  }
  if (!items.length) return h('p', { class: 'empty' }, 'No risk events recorded for this user.');
  items.sort((a, b) => b.time - a.time || (a.key < b.key ? 1 : -1));
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Risk timeline, newest first' },
    items.map((i) => i.node),
  );
}
