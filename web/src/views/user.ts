/** One user: level and why (evidence in words, travel map), timeline with SET outcomes, sessions, reset. */
import { api, ApiError, seg, type Device, type Session, type UserRisk } from '../api.js';
import { h, Region } from '../dom.js';
import { LEVEL_TEXT, travelPair } from '../format.js';
import { loadWorld } from '../map.js';
import { announce, confirmDialog, errorBox, errorText, time } from '../ui.js';
import type { View } from '../view.js';
import { readDeliveries, type Deliveries } from './user/deliveries.js';
import { newestEvents, processedMs, withNewer, withOlder, type EventsHeld } from './user/events.js';
import { renderHead, renderSessions, renderWhy, type SessionsRead } from './user/parts.js';
import { timeline } from './user/timeline.js';

interface Data {
  risk: UserRisk;
  held: EventsHeld;
  deliveries: Deliveries;
  sessions: SessionsRead;
}

export function userView(user: string): View {
  /** The user's API path; set at mount, where an id no URL path can hold (`..`) is said as such. */
  let base = '';
  let head: Region;
  let why: Region;
  let tl: Region;
  let sess: Region;
  /** Why the last live read failed (shown above the data it could not refresh), cleared by the next one that works. */
  let problem: HTMLElement;
  let current: Data | null = null;
  /** When the data shown was read (ms). */
  let readAt = 0;
  /** A reset is in flight: its button stays disabled (a second click would queue a second reset). */
  let resetting = false;
  /** The risk events read so far (each read adds to them when it arrives: reads run side by side). */
  let held: EventsHeld = { events: [], older: null };
  const now = (): EventsHeld => held;
  /** Reads started, and the newest one rendered: a read older than what is shown never replaces it (a tick's read from before a reset). */
  let reads = 0;
  let shownRead = 0;

  /** Reads the risk, sessions and delivery records (back to the oldest risk event held) and renders them with the events held, unless a newer read is shown. */
  async function show(): Promise<void> {
    const n = ++reads;
    const events = held;
    const [risk, sessions] = await Promise.all([
      api<UserRisk>(`${base}/risk`),
      api<{ sessions: Session[]; devices: Device[] }>(`${base}/sessions`).catch((err: unknown): SessionsRead => {
        if (err instanceof ApiError && err.status === 401) throw err;
        return { error: errorText(err) };
      }),
    ]);
    // Delivery records are read back to the oldest risk event held (a minute before: a SET follows its change).
    const oldest = Math.min(...events.events.map(processedMs).filter(Number.isFinite));
    const deliveries = await readDeliveries(base, Number.isFinite(oldest) ? oldest - 60_000 : undefined);
    await render({ risk, held: events, deliveries, sessions }, n);
  }

  let page: HTMLElement;
  let body: HTMLElement;
  /** What the first read's failure said (a user not seen yet, an API error): replaced by the page once a read works. */
  let failure: HTMLElement | null = null;

  /** The first read: the page once it works, else why not (tried again each tick). */
  async function first(): Promise<void> {
    try {
      base = `/v1/users/${seg(user)}`;
      held = await newestEvents(base);
      await show();
    } catch (err) {
      if (current) return; // another read (a tick's) has shown the page meanwhile
      const el = err instanceof ApiError && err.status === 404 ? h('p', { class: 'empty' }, `riskstream has not seen ${user}.`) : errorBox(err);
      if (failure?.textContent === el.textContent) return; // said already (an alert is not repeated each tick)
      if (failure) failure.replaceWith(el);
      else page.append(el);
      failure = el;
      return;
    }
    failure?.remove();
    failure = null;
    page.append(body);
  }

  /** Live: the risk events newer than those held put on top, and the rest read again. */
  async function refresh(): Promise<void> {
    if (!current) return first();
    try {
      held = await withNewer(base, held, now);
      await show();
      problem.replaceChildren();
    } catch (err) {
      const el = h(
        'p',
        { class: 'error', role: 'alert', 'data-problem': 'refresh' },
        `Could not refresh this page: ${errorText(err)}. What is shown was read at `,
        time(readAt),
        '.',
      );
      if (problem.textContent !== el.textContent) problem.replaceChildren(el); // an alert is not repeated each tick
      throw err;
    }
  }

  /** "Show older": the next page of risk events below those held, from the API's cursor. */
  async function older(): Promise<void> {
    try {
      held = await withOlder(base, held, now);
      await show();
    } catch (err) {
      announce(`Cannot read older events: ${errorText(err)}`, 'error');
    }
  }

  const drawHead = (): void => {
    if (current) head.update({ r: current.risk, resetting }, () => renderHead(current!.risk, resetting, () => void reset()));
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
      const res = await api<{ previous_level: string; level: string; version: number }>(`${base}/risk/reset`, {
        method: 'POST',
        body: { reason: ok.reason },
      });
      announce(
        `Risk reset for ${user}: ${LEVEL_TEXT[res.previous_level] ?? res.previous_level} → ${LEVEL_TEXT[res.level] ?? res.level} (version ${res.version}).`,
        'ok',
      );
      resetting = false;
      await refresh().catch(() => undefined); // a failed re-read says so above the data
    } catch (err) {
      announce(`Reset failed: ${errorText(err)}`, 'error');
    } finally {
      resetting = false;
      drawHead();
    }
  }

  /** Renders the data of read number `n`, unless a newer read is already shown. */
  async function render(d: Data, n: number): Promise<void> {
    if (d.risk.behaviors.some((b) => travelPair(b.evidence))) await loadWorld().catch(() => undefined);
    if (n < shownRead) return;
    shownRead = n;
    current = d;
    readAt = Date.now();
    drawHead();
    why.update(d.risk.behaviors, () => renderWhy(d.risk));
    const { events, older: next } = d.held;
    tl.update({ e: events, d: d.deliveries, more: next !== null }, () => [
      timeline(events, d.deliveries),
      next !== null
        ? h(
            'p',
            { class: 'muted small' },
            `Showing the newest ${events.length} risk events. `,
            h('button', { type: 'button', class: 'btn', 'data-key': 'older-events', 'on:click': () => void older() }, 'Show older events'),
          )
        : events.length
          ? h('p', { class: 'muted small', 'data-events': 'end' }, `All ${events.length} risk events kept for this user are shown.`)
          : null,
    ]);
    sess.update(d.sessions, () => renderSessions(user, d.sessions));
  }

  return {
    title: user,
    nav: 'risk',
    async mount(main) {
      const headEl = h('div');
      const whyEl = h('div', { class: 'cards' });
      const tlEl = h('div');
      const sessEl = h('div');
      problem = h('div');
      [head, why, tl, sess] = [new Region(headEl), new Region(whyEl), new Region(tlEl), new Region(sessEl)];
      page = main;
      body = h(
        'div',
        null,
        problem,
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
      main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/risk' }, '← Users by risk')), h('h1', { tabindex: -1, class: 'mono-title' }, user));
      await first();
    },
    refresh,
  };
}
