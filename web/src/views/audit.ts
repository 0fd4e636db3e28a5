/** The audit log, newest first: filter by action (server side), actor and target (searched page by page). */
import { api, entryIdNewer, qs, type AuditEntry, type AuditPage } from '../api.js';
import { h, Region, type Child } from '../dom.js';
import { num } from '../format.js';
import { errorBox, levelBadge, time, userLink } from '../ui.js';
import { hashQuery, replaceQuery, type View } from '../view.js';
import { AUDIT_ACTIONS as ACTIONS } from './audit-actions.js';

const PAGE = 200;
/** Raw entries read at most per load when filtering by actor/target (then "Search older"). */
const MAX_SCAN = 4000;
const SHOW = 100;

function detailText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function details(d: Record<string, unknown>): Child {
  const entries = Object.entries(d).filter(([, v]) => v !== undefined && v !== '');
  if (!entries.length) return h('span', { class: 'muted' }, '—');
  return h(
    'dl',
    { class: 'kv-inline' },
    entries.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', { class: 'break' }, detailText(v)))),
  );
}

/** A level change (riskstream's own, or a reset) in words: previous → new level. */
function levelChange(e: AuditEntry): Child {
  const { previous, level } = e.details;
  if (!e.action.startsWith('risk.') || typeof previous !== 'string' || typeof level !== 'string') return null;
  return h('p', { class: 'audit-change' }, levelBadge(previous), ' → ', levelBadge(level));
}

function targetCell(e: AuditEntry): Child {
  if (!e.target) return h('span', { class: 'muted' }, '—');
  const isUser = e.action.startsWith('risk.') || (e.action.startsWith('set.') && e.details.user === e.target);
  return isUser ? userLink(e.target, `t:${e.id}`) : h('span', { class: 'mono break' }, e.target);
}

export function auditView(): View {
  const q = hashQuery();
  const filter = { action: q.get('action') ?? '', actor: q.get('actor') ?? '', target: q.get('target') ?? '' };
  let table: Region;
  /** The matching entries shown, newest first: what was read so far, older reads appended, newer ones prepended. */
  let entries: AuditEntry[] = [];
  /** Where the next older read starts (the cursor after the oldest entry read), null at the log's start. */
  let older: string | null = null;
  /** The newest entry read (matching or not): a live refresh reads the entries newer than it. */
  let top: string | null = null;
  let scanned = 0;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  /** Reads run one at a time (a live refresh and "Show older" never interleave). */
  let queue: Promise<void> = Promise.resolve();

  const matches = (e: AuditEntry): boolean =>
    (!filter.actor || e.actor.toLowerCase().includes(filter.actor.toLowerCase())) &&
    (!filter.target ||
      (e.target ?? '').toLowerCase().includes(filter.target.toLowerCase()) ||
      String(e.details.user ?? '').toLowerCase() === filter.target.toLowerCase());

  /**
   * Reads whole pages from `cursor` (null: the newest entry) until `want` matches, MAX_SCAN raw
   * entries, the log's start, or — `until` given — an entry not newer than `until` is found.
   * Every match of the pages read is kept (none cut), so `cursor` continues right after them.
   */
  async function read(cursor: string | null, want: number, until?: string) {
    const found: AuditEntry[] = [];
    let n = 0;
    let first: string | null = null;
    let reached = false;
    do {
      const page: AuditPage = await api(`/v1/audit${qs({ action: filter.action, cursor, limit: PAGE })}`);
      n += page.entries.length;
      first ??= page.entries[0]?.id ?? null;
      for (const e of page.entries) {
        if (until !== undefined && !entryIdNewer(e.id, until)) {
          reached = true;
          break;
        }
        if (matches(e)) found.push(e);
      }
      cursor = page.next_cursor;
    } while (cursor && !reached && found.length < want && n < MAX_SCAN);
    return { found, cursor, n, first, reached };
  }

  /** Runs `step` after the reads before it; its result is dropped when the filter changed meanwhile. */
  function run(step: (gen: number) => Promise<void>): Promise<void> {
    const gen = generation;
    queue = queue.then(async () => {
      try {
        await step(gen);
      } catch (err) {
        if (gen !== generation) return;
        table.reset();
        table.el.replaceChildren(errorBox(err));
      }
    });
    return queue;
  }

  /** The newest SHOW matches (or MAX_SCAN raw entries read), from the top. */
  async function fresh(gen: number): Promise<void> {
    const r = await read(null, SHOW);
    if (gen !== generation) return;
    [entries, older, top, scanned] = [r.found, r.cursor, r.first, r.n];
    render();
  }
  const load = (): Promise<void> => run(fresh);

  /** Live: the entries appended since the newest read, put on top; a fresh read when more came than one read takes. */
  const refresh = (): Promise<void> =>
    run(async (gen) => {
      if (top === null) return fresh(gen);
      const r = await read(null, Infinity, top);
      if (gen !== generation) return;
      if (!r.reached && r.cursor !== null) return fresh(gen);
      [entries, top, scanned] = [[...r.found, ...entries], r.first ?? top, scanned + r.n];
      render();
    });

  /** "Show older": the next SHOW matches after the oldest read, kept below what is shown. */
  const showOlder = (): Promise<void> =>
    run(async (gen) => {
      if (older === null) return;
      const r = await read(older, SHOW);
      if (gen !== generation) return;
      [entries, older, scanned] = [[...entries, ...r.found], r.cursor, scanned + r.n];
      render();
    });

  /** Why no entry is shown. With an action filter the server skips the other entries: how many it read is not known here. */
  function emptyText(): string {
    if (!filter.action && !filter.actor && !filter.target) return 'The audit log is empty.';
    if (filter.action) return older !== null ? 'No entries match these filters in the part of the log read so far.' : 'No entries match these filters.';
    return `No entries match these filters in the newest ${num(scanned)} entries read.`;
  }

  function render(): void {
    const filtered = filter.action || filter.actor || filter.target;
    const more = older !== null;
    table.update({ entries, more, f: filter }, () => [
      entries.length
        ? h(
            'div',
            { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Audit log table' },
            h(
              'table',
              { class: 'data audit' },
              h(
                'caption',
                null,
                `Audit log, newest first${filtered ? ' (filtered)' : ''}: ${num(entries.length)} ${entries.length === 1 ? 'entry' : 'entries'} shown`,
              ),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['Time', 'Action', 'Actor', 'Target', 'Details'].map((c) => h('th', { scope: 'col' }, c)),
                ),
              ),
              h(
                'tbody',
                null,
                entries.map((e) =>
                  h(
                    'tr',
                    { 'data-action': e.action, 'data-id': e.id },
                    h('td', { class: 'nowrap' }, time(e.time)),
                    h('th', { scope: 'row', class: 'mono' }, e.action),
                    h('td', { class: 'mono nowrap' }, e.actor),
                    h('td', null, targetCell(e)),
                    h('td', { class: 'details' }, levelChange(e), details(e.details)),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, emptyText()),
      more
        ? h(
            'p',
            null,
            h(
              'button',
              { type: 'button', class: 'btn', 'data-key': 'older', 'on:click': () => void showOlder() },
              entries.length ? 'Show older entries' : 'Search older entries',
            ),
          )
        : entries.length
          ? h('p', { class: 'muted small' }, 'End of the audit log.')
          : null,
    ]);
  }

  /** A new filter: nothing read under the old one is kept (a failed first read must not leave its entries for the next live read to add to). */
  function changed(): void {
    replaceQuery(filter);
    generation++;
    [entries, older, top, scanned] = [[], null, null, 0];
    void load();
  }

  return {
    title: 'Audit log',
    nav: 'audit',
    async mount(main) {
      const field = (id: keyof typeof filter, label: string, extra: Record<string, string> = {}) => {
        const input = h('input', { id: `a-${id}`, name: id, type: 'search', value: filter[id], autocomplete: 'off', spellcheck: 'false', ...extra });
        input.addEventListener('input', () => {
          clearTimeout(debounce);
          debounce = setTimeout(() => ((filter[id] = input.value.trim()), changed()), 300);
        });
        return h('div', { class: 'field' }, h('label', { for: `a-${id}` }, label), input);
      };
      const el = h('div');
      table = new Region(el);
      main.append(
        h('h1', { tabindex: -1 }, 'Audit log'),
        h(
          'form',
          { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log', 'on:submit': (e: Event) => e.preventDefault() },
          field('action', 'Action (or prefix)', { list: 'a-actions', placeholder: 'e.g. risk.reset' }),
          h(
            'datalist',
            { id: 'a-actions' },
            ACTIONS.map((a) => h('option', { value: a })),
          ),
          field('actor', 'Actor', { placeholder: 'e.g. token:ab12cd34' }),
          field('target', 'Target (user, session, receiver)', { placeholder: 'e.g. alice@example.com' }),
        ),
        el,
      );
      await load();
    },
    refresh,
    unmount: () => clearTimeout(debounce),
  };
}
