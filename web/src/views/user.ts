/** One user: level and why (evidence in words, travel map), timeline with SET outcomes, sessions, reset. */
import {
  api,
  ApiError,
  qs,
  seg,
  type DeliveriesView,
  type Delivery,
  type Device,
  type RiskChangeEvent,
  type RiskEvent,
  type Session,
  type UserRisk,
} from '../api.js';
import { h, Region, type Child } from '../dom.js';
import { LEVEL_TEXT, duration, humanize, travelPair, travelWords } from '../format.js';
import { loadWorld, travelMap } from '../map.js';
import { announce, confirmDialog, errorBox, errorText, levelBadge, pairs, sessionLink, time, tree } from '../ui.js';
import type { View } from '../view.js';

/** Risk events read at first, and more each time older ones are asked for. */
const EVENTS_PAGE = 200;

interface Data {
  risk: UserRisk;
  events: RiskEvent[];
  /** Older risk events exist beyond those read. */
  more: boolean;
  deliveries: Delivery[];
  /** When the read stopped at DELIVERIES_READ records: the time (ms) of the oldest one read; older SETs' records were not read. */
  deliveriesFrom: number | null;
  sessions: { sessions: Session[]; devices: Device[] } | null;
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

/** Delivery records read at most (the newest of the user's, back to the oldest risk event shown). */
const DELIVERIES_READ = 500;

/** `unread`: the SET is older than the oldest delivery record read (the newest DELIVERIES_READ were read). */
function deliveriesFor(list: Delivery[], unread = false): HTMLElement {
  const byReceiver = new Map<string, Delivery[]>();
  for (const d of list) {
    const r = d.receiver ?? '?';
    if (!byReceiver.has(r)) byReceiver.set(r, []);
    byReceiver.get(r)!.push(d);
  }
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

/** "happened … · processed …": both clocks, each named (the same moment: one time). */
function clocks(occurred: string | number | null | undefined, processed: string | number | null | undefined): Child[] {
  const o = occurred ?? null;
  const p = processed ?? null;
  if (p === null || o === null || Date.parse(String(o)) === Date.parse(String(p))) return [' · ', time(o ?? p)];
  return [' · happened ', time(o), h('span', { class: 'muted' }, ' · processed '), time(p)];
}

function timeline(d: Data): HTMLElement {
  type Item = { time: number; key: string; node: HTMLElement };
  const items: Item[] = [];
  for (const e of d.events) {
    if (e.kind === 'change') {
      const c = e as RiskChangeEvent;
      const ds = d.deliveries.filter((x) => x.event === 'risk-level-change' && x.version === c.version);
      const unread = d.deliveriesFrom !== null && (Date.parse(c.processed_at ?? '') || c.time) < d.deliveriesFrom;
      items.push({
        time: Date.parse(c.processed_at ?? '') || c.time,
        key: e.id,
        node: h(
          'li',
          { class: 'tl-item tl-change', 'data-version': c.version },
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
          deliveriesFor(ds, unread),
        ),
      });
    } else if (e.kind === 'hit') {
      items.push({
        time: Date.parse(e.processed_at ?? '') || e.time,
        key: e.id,
        node: h(
          'li',
          { class: `tl-item tl-hit${e.expired_on_arrival ? ' tl-expired' : ''}` },
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
        ),
      });
    }
  }
  const revoked = new Map<string, Delivery[]>();
  for (const x of d.deliveries) {
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

function behaviorCard(b: UserRisk['behaviors'][number]): HTMLElement {
  const words = travelWords(b.evidence);
  const pair = travelPair(b.evidence);
  const map = pair
    ? h(
        'figure',
        { class: 'map-figure' },
        travelMap(pair.from, pair.to, b.evidence),
        h('figcaption', { class: 'muted small' }, 'Great-circle path between the two logins.'),
      )
    : null;
  const ips = pair && (pair.from.ip || pair.to.ip) ? `IP ${pair.from.ip ?? '?'} → ${pair.to.ip ?? '?'}` : null;
  return h(
    'article',
    { class: 'behavior card', 'aria-labelledby': `b-${b.id}` },
    h('h3', { id: `b-${b.id}` }, humanize(b.id), ' ', levelBadge(b.level)),
    h('p', { class: 'evidence-words' }, words ?? b.summary),
    ips ? h('p', { class: 'muted small mono' }, ips) : null,
    map,
    pairs(
      [
        ['First happened', time(b.first_at)],
        ['Last happened', time(b.last_at)],
        ['Hits', String(b.hits)],
        ['Counts until', b.expires_at ? time(b.expires_at) : 'it is reset (never expires)'],
      ],
      'pairs pairs-inline',
    ),
    h('details', null, h('summary', null, 'All evidence'), tree(b.evidence)),
  );
}

export function userView(user: string): View {
  let head: Region;
  let why: Region;
  let tl: Region;
  let sess: Region;
  let current: Data | null = null;
  let main: HTMLElement;
  /** A reset is in flight: its button stays disabled (a second click would queue a second reset). */
  let resetting = false;
  let wantEvents = EVENTS_PAGE;
  /** Reads started, and the newest one rendered: a read older than what is shown never replaces it. */
  let reads = 0;
  let shownRead = 0;

  async function fetchAll(): Promise<Data> {
    const base = `/v1/users/${seg(user)}`;
    const [risk, { events, more }, sessions] = await Promise.all([
      api<UserRisk>(`${base}/risk`),
      readEvents(base),
      api<{ sessions: Session[]; devices: Device[] }>(`${base}/sessions`).catch(() => null),
    ]);
    // Deliveries are read from the audit log back to the oldest risk event shown (a minute before).
    const oldest = Math.min(...events.map((e) => Number(e.id.split('-')[0]) || Infinity));
    const since = Number.isFinite(oldest) ? oldest - 60_000 : undefined;
    const deliveries = await api<DeliveriesView>(`${base}/deliveries${qs({ limit: DELIVERIES_READ, since })}`)
      .then((r) => r.deliveries)
      .catch(() => [] as Delivery[]);
    const deliveriesFrom = deliveries.length >= DELIVERIES_READ ? Date.parse(deliveries[deliveries.length - 1]!.time ?? '') || null : null;
    return { risk, events, more, deliveries, deliveriesFrom, sessions };
  }

  /** The newest `wantEvents` risk events (pages of at most 1000), and whether older ones exist. */
  async function readEvents(base: string): Promise<{ events: RiskEvent[]; more: boolean }> {
    const events: RiskEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: RiskEvent[]; next_cursor: string | null } = await api(
        `${base}/events${qs({ limit: Math.min(1000, wantEvents - events.length), cursor })}`,
      );
      events.push(...page.events);
      cursor = page.next_cursor;
    } while (cursor && events.length < wantEvents);
    return { events, more: cursor !== null };
  }

  async function older(): Promise<void> {
    wantEvents += EVENTS_PAGE;
    try {
      await refresh();
    } catch (err) {
      announce(`Cannot read older events: ${errorText(err)}`, 'error');
    }
  }

  const drawHead = (): void => {
    if (current) head.update({ r: current.risk, resetting }, () => renderHead(current!.risk));
  };

  async function reset(): Promise<void> {
    if (!current || resetting) return;
    const r = current.risk;
    const ok = await confirmDialog({
      title: `Reset risk for ${user}?`,
      body: h(
        'p',
        null,
        `This clears ${r.behaviors.length === 1 ? 'the active behavior' : `all ${r.behaviors.length} active behaviors`} and sets the level from ${LEVEL_TEXT[r.level]} to Low. `,
        'An audit entry is written and every receiver is sent a risk-level-change event (initiated by an admin).',
      ),
      confirmLabel: 'Reset risk',
      danger: true,
      reason: { label: 'Reason (kept in the audit log and sent to receivers)', placeholder: 'e.g. confirmed travel with the user' },
    });
    if (!ok || resetting) return;
    resetting = true;
    drawHead();
    try {
      const res = await api<{ previous_level: string; level: string; version: number }>(`/v1/users/${seg(user)}/risk/reset`, {
        method: 'POST',
        body: { reason: ok.reason },
      });
      announce(
        `Risk reset for ${user}: ${LEVEL_TEXT[res.previous_level] ?? res.previous_level} → ${LEVEL_TEXT[res.level] ?? res.level} (version ${res.version}).`,
        'ok',
      );
      resetting = false;
      await refresh();
    } catch (err) {
      announce(`Reset failed: ${errorText(err)}`, 'error');
    } finally {
      resetting = false;
      drawHead();
    }
  }

  function renderHead(r: UserRisk): HTMLElement {
    const nothing = r.level === 'low' && r.behaviors.length === 0;
    return h(
      'div',
      { class: 'user-head' },
      h('div', { class: 'user-level' }, levelBadge(r.level, 'level-lg'), h('span', { class: 'visually-hidden' }, ' risk level')),
      pairs(
        [
          ['Version', String(r.version)],
          ['Level changed', time(r.changed_at)],
          ['Next expiry', r.next_expiry ? time(r.next_expiry) : 'none'],
          ['Active behaviors', String(r.behaviors.length)],
        ],
        'pairs pairs-inline',
      ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-danger',
            'data-key': 'reset',
            disabled: nothing || resetting,
            'aria-describedby': nothing ? 'reset-note' : null,
            'on:click': () => void reset(),
          },
          'Reset risk…',
        ),
        nothing ? h('span', { id: 'reset-note', class: 'muted small' }, 'Nothing to reset: low, no active behaviors.') : null,
      ),
    );
  }

  function renderSessions(s: Data['sessions']): Child {
    if (!s) return h('p', { class: 'muted' }, 'Sessions are not available.');
    if (!s.sessions.length) return h('p', { class: 'empty' }, 'No active sessions.');
    return h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `Sessions of ${user}` },
      h(
        'table',
        { class: 'data' },
        h('caption', null, `Active sessions of ${user}`),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Session', 'IdP', 'Device', 'IP / place', 'Login', 'Expires'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          s.sessions.map((x) =>
            h(
              'tr',
              { 'data-session': x.session_id },
              h('th', { scope: 'row' }, sessionLink(x.session_id)),
              h('td', null, x.idp ?? '—'),
              h('td', { class: 'mono' }, String(x.device?.id ?? '—')),
              h('td', null, [x.ip ?? '—', x.geo?.city ? ` · ${String(x.geo.city)}` : '']),
              h('td', null, time(x.login_at)),
              h('td', null, time(x.expires_at)),
            ),
          ),
        ),
      ),
    );
  }

  /** Renders the data of read number `n`, unless a newer read is already shown (a tick's read that started before a reset). */
  async function render(d: Data, n: number): Promise<void> {
    if (d.risk.behaviors.some((b) => travelPair(b.evidence))) await loadWorld().catch(() => undefined);
    if (n < shownRead) return;
    shownRead = n;
    current = d;
    drawHead();
    why.update(d.risk.behaviors, () =>
      d.risk.behaviors.length
        ? d.risk.behaviors.map(behaviorCard)
        : h('p', { class: 'empty' }, d.risk.level === 'low' ? 'No active behaviors: the level is Low.' : 'No active behaviors.'),
    );
    tl.update({ e: d.events, d: d.deliveries, more: d.more }, () => [
      timeline(d),
      d.more
        ? h(
            'p',
            { class: 'muted small' },
            `Showing the newest ${d.events.length} risk events. `,
            h('button', { type: 'button', class: 'btn', 'data-key': 'older-events', 'on:click': () => void older() }, 'Show older events'),
          )
        : null,
    ]);
    sess.update(d.sessions, () => renderSessions(d.sessions));
  }

  async function refresh(): Promise<void> {
    const n = ++reads;
    const d = await fetchAll();
    await render(d, n);
  }

  return {
    title: user,
    nav: 'risk',
    async mount(m) {
      main = m;
      const headEl = h('div');
      const whyEl = h('div', { class: 'cards' });
      const tlEl = h('div');
      const sessEl = h('div');
      [head, why, tl, sess] = [new Region(headEl), new Region(whyEl), new Region(tlEl), new Region(sessEl)];
      main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/risk' }, '← Users by risk')), h('h1', { tabindex: -1, class: 'mono-title' }, user));
      let d: Data;
      const n = ++reads;
      try {
        d = await fetchAll();
      } catch (err) {
        main.append(err instanceof ApiError && err.status === 404 ? h('p', { class: 'empty' }, `riskstream has not seen ${user}.`) : errorBox(err));
        return;
      }
      main.append(
        headEl,
        h('section', { 'aria-labelledby': 'why-h' }, h('h2', { id: 'why-h' }, 'Why this level'), whyEl),
        h(
          'section',
          { 'aria-labelledby': 'tl-h' },
          h('h2', { id: 'tl-h' }, 'Timeline'),
          h(
            'p',
            { class: 'muted small' },
            'Risk changes and detections, newest first as riskstream processed them, with each SET delivery’s outcome per receiver. ',
            '“Happened” is when the event occurred (event time: behaviors count from it); “processed” is when riskstream recorded it. Times in UTC.',
          ),
          tlEl,
        ),
        h('section', { 'aria-labelledby': 'sess-h' }, h('h2', { id: 'sess-h' }, 'Sessions'), sessEl),
      );
      await render(d, n);
    },
    refresh,
  };
}
