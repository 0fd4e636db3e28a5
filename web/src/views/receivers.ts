/** Receivers (without secrets) with delivery health, and the behavior configuration in force. Read-only. */
import { api, type Behavior, type BehaviorsView, type Receiver, type ReceiversView } from '../api.js';
import { h, Region, type Child } from '../dom.js';
import { duration, humanize, num } from '../format.js';
import { errorBox, levelBadge, pairs, time, tree } from '../ui.js';
import type { View } from '../view.js';

/** Behavior parameters measured in ms. */
const DURATION_PARAMS = new Set(['window', 'expires_after', 'timeout']);

function attempt(a: Record<string, unknown> | null, none: string): Child {
  if (!a) return h('span', { class: 'muted' }, none);
  const bits = [a.outcome, a.status !== undefined ? `HTTP ${String(a.status)}` : null, a.description ?? a.message ?? null].filter(
    (x) => x !== null && x !== undefined && x !== '',
  );
  return h('span', null, time(a.time as string), bits.length ? h('span', { class: 'muted' }, ` · ${bits.join(', ')}`) : null);
}

function healthState(r: Receiver): { cls: string; text: string } {
  const hl = r.health;
  if (!r.enabled) return { cls: 'muted', text: 'Disabled' };
  const lastOk = Date.parse(String(hl.last_success?.time ?? '')) || 0;
  const lastBad = Date.parse(String(hl.last_failure?.time ?? '')) || 0;
  if (lastBad > lastOk) return { cls: 'bad', text: hl.last_failure?.action === 'set.failed' ? 'Failing' : 'Retrying' };
  if (lastOk) return { cls: 'ok', text: 'Healthy' };
  return { cls: 'muted', text: 'No deliveries yet' };
}

function receiverCard(r: Receiver): HTMLElement {
  const st = healthState(r);
  const q = r.health.queue;
  return h(
    'article',
    { class: 'card receiver', 'aria-labelledby': `r-${r.name}`, 'data-receiver': r.name },
    h('h3', { id: `r-${r.name}` }, h('span', { class: 'mono' }, r.name), ' ', h('span', { class: `pill pill-${st.cls}` }, st.text)),
    pairs([
      ['Kind', `${r.kind}${r.source === 'ssf-stream' ? ' (registered SSF stream)' : ''}`],
      ['Endpoint', h('span', { class: 'mono break' }, r.endpoint)],
      ['Audience', h('span', { class: 'mono break' }, r.audience)],
      ['Subject format', r.subject_format],
      ['Events', r.events.join(', ') || 'none'],
      ['Signing', r.alg],
      ['Authorization header', r.authorization === 'set' ? 'configured (not shown)' : 'none'],
      ['Timeout', duration(r.timeout_ms)],
      ['Rate limit', r.rate_limit ? `${r.rate_limit} SET/s` : 'none'],
      ['Sends at once', `at most ${num(r.concurrency)} per worker`],
    ]),
    h('h4', null, 'Delivery health (last 24 h)'),
    pairs([
      ['Last success', attempt(r.health.last_success, 'none yet')],
      ['Last failure or retry', attempt(r.health.last_failure, 'none')],
      ['Delivered', num(r.health.delivered)],
      ['Failed', num(r.health.failed)],
      ['Retries', num(r.health.retries)],
      ['Superseded', num(r.health.superseded)],
      ['Queue depth', `${num(q.total)} (${num(q.waiting)} waiting, ${num(q.delayed)} delayed, ${num(q.active)} sending)`],
    ]),
  );
}

function paramValue(k: string, v: unknown): Child {
  if (typeof v === 'number' && DURATION_PARAMS.has(k)) return duration(v);
  if (v !== null && typeof v === 'object') return tree(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function behaviorsTable(list: Behavior[]): HTMLElement {
  if (!list.length) return h('p', { class: 'empty' }, 'No behaviors configured.');
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Behaviors table' },
    h(
      'table',
      { class: 'data' },
      h('caption', null, 'Behaviors in force (behaviors.yaml)'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Behavior', 'Enabled', 'Level', 'Expires after', 'Parameters'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        list.map((b) =>
          h(
            'tr',
            { 'data-behavior': b.id },
            h(
              'th',
              { scope: 'row' },
              h('span', null, humanize(b.id)),
              h('br'),
              h('span', { class: 'mono muted small' }, b.id === b.kind ? b.id : `${b.id} (${b.kind})`),
              b.description ? h('p', { class: 'small' }, b.description) : null,
            ),
            h('td', null, b.enabled ? 'Yes' : h('span', { class: 'muted' }, 'No')),
            h('td', null, levelBadge(b.risk_level)),
            h('td', null, duration(b.expires_after_ms)),
            h(
              'td',
              null,
              Object.keys(b.params).length
                ? pairs(
                    Object.entries(b.params).map(([k, v]) => [k, paramValue(k, v)]),
                    'pairs pairs-compact',
                  )
                : h('span', { class: 'muted' }, 'defaults'),
            ),
          ),
        ),
      ),
    ),
  );
}

export function receiversView(): View {
  let rx: Region;
  let bx: Region;

  async function load(): Promise<void> {
    const [r, b] = await Promise.allSettled([api<ReceiversView>('/v1/receivers'), api<BehaviorsView>('/v1/behaviors')]);
    if (r.status === 'fulfilled') {
      const v = r.value;
      rx.update({ r: v.receivers, q: v.queue, n: v.window.entries }, () => [
        v.receivers.length
          ? h('div', { class: 'cards cards-2' }, v.receivers.map(receiverCard))
          : h('p', { class: 'empty' }, 'No receivers configured: risk changes are not shared.'),
        h(
          'p',
          { class: 'muted small' },
          `Queue: ${
            Object.entries(v.queue)
              .map(([k, n]) => `${num(n)} ${k}`)
              .join(', ') || 'unknown'
          }. Health from the newest ${num(v.window.entries)} audit entries since `,
          time(v.window.since),
          v.window.complete ? '.' : ' (older entries not read).',
        ),
      ]);
    } else {
      rx.reset();
      rx.el.replaceChildren(errorBox(r.reason));
    }
    if (b.status === 'fulfilled') bx.update(b.value, () => behaviorsTable(b.value.behaviors));
    else {
      bx.reset();
      bx.el.replaceChildren(errorBox(b.reason));
    }
  }

  return {
    title: 'Receivers and behaviors',
    nav: 'receivers',
    every: 3,
    async mount(main) {
      const r = h('div');
      const b = h('div');
      rx = new Region(r);
      bx = new Region(b);
      main.append(
        h('h1', { tabindex: -1 }, 'Receivers and behaviors'),
        h('p', { class: 'muted' }, 'Read-only: change them in the configuration files and reload the worker.'),
        h('section', { 'aria-labelledby': 'rx-h' }, h('h2', { id: 'rx-h' }, 'Receivers'), r),
        h('section', { 'aria-labelledby': 'bx-h' }, h('h2', { id: 'bx-h' }, 'Behaviors'), b),
      );
      await load();
    },
    refresh: load,
  };
}
