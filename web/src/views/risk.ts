/** Users by risk level: filters, search, cursor paging, live. */
import { api, qs, type Behavior, type BehaviorsView, type UsersTable } from '../api.js';
import { h, Region } from '../dom.js';
import { LEVEL_TEXT, humanize, num } from '../format.js';
import { errorBox, levelBadge, Pager, time, userLink } from '../ui.js';
import { hashQuery, replaceQuery, type View } from '../view.js';

const PAGE = 50;

export function riskView(): View {
  const q = hashQuery();
  const filter = { level: q.get('level') ?? '', behavior: q.get('behavior') ?? '', q: q.get('q') ?? '' };
  const pager = new Pager();
  let table: Region;
  let counts: Region;
  let behaviors: Behavior[] = [];
  let debounce: ReturnType<typeof setTimeout> | undefined;
  /** Loads started: only the latest one renders (a tick's read of the old filter or page, answered late, is dropped). */
  let loads = 0;

  async function load(): Promise<void> {
    const n = ++loads;
    try {
      const data = await api<UsersTable>(`/v1/console/users${qs({ ...filter, cursor: pager.cursor, limit: PAGE })}`);
      if (n !== loads) return;
      pager.next = data.next_cursor;
      counts.update(data.counts, () => renderCounts(data.counts));
      table.update({ data, page: pager.page }, () => renderTable(data));
    } catch (err) {
      if (n !== loads) return;
      table.reset();
      table.el.replaceChildren(errorBox(err));
    }
  }

  function changed(): void {
    replaceQuery(filter);
    pager.reset();
    void load();
  }

  function renderCounts(c: UsersTable['counts']): HTMLElement {
    return h(
      'ul',
      { class: 'counts', 'aria-label': 'Users per level' },
      (['high', 'medium', 'low'] as const).map((l) => h('li', null, levelBadge(l), ' ', h('strong', null, num(c[l])))),
      h('li', { class: 'muted' }, `${num(c.total)} users tracked`),
    );
  }

  function renderTable(data: UsersTable): HTMLElement {
    const filtered = filter.level || filter.behavior || filter.q;
    if (!data.users.length) {
      // Past the first page, the users that were on it may have moved (a level change) or left
      // since: earlier pages still hold users, and Previous leads back to them.
      const later = pager.page > 1;
      return h(
        'p',
        { class: 'empty' },
        data.next_cursor
          ? 'No matching users in this part of the list.'
          : later
            ? 'No more users.'
            : filtered
              ? 'No users match these filters.'
              : 'No users tracked yet.',
        data.next_cursor ? ' Try the next page.' : '',
        data.next_cursor || later ? pager.render('Users pages', () => void load()) : null,
      );
    }
    return h(
      'div',
      null,
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Users table' },
        h(
          'table',
          { class: 'data' },
          h('caption', null, 'Users by risk level, highest first, then the most recent change'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'User'),
              h('th', { scope: 'col' }, 'Level'),
              h('th', { scope: 'col' }, 'Last change'),
              h('th', { scope: 'col' }, 'Active behaviors'),
            ),
          ),
          h(
            'tbody',
            null,
            data.users.map((u) =>
              h(
                'tr',
                { 'data-user': u.user },
                h('th', { scope: 'row' }, userLink(u.user)),
                h('td', null, levelBadge(u.level)),
                h('td', null, time(u.changed_at)),
                h(
                  'td',
                  null,
                  u.behaviors.length
                    ? h(
                        'ul',
                        { class: 'chips' },
                        u.behaviors.map((b) =>
                          h(
                            'li',
                            { class: `chip chip-${b.level}`, title: b.summary },
                            humanize(b.id),
                            h('span', { class: 'visually-hidden' }, ` (${LEVEL_TEXT[b.level]}): ${b.summary}`),
                          ),
                        ),
                      )
                    : h('span', { class: 'muted' }, 'none'),
                ),
              ),
            ),
          ),
        ),
      ),
      pager.render('Users pages', () => void load()),
    );
  }

  return {
    title: 'Users by risk',
    nav: 'risk',
    async mount(main) {
      try {
        behaviors = (await api<BehaviorsView>('/v1/behaviors')).behaviors;
      } catch {
        behaviors = [];
      }
      const level = h(
        'select',
        { id: 'f-level', name: 'level' },
        h('option', { value: '' }, 'All levels'),
        (['high', 'medium', 'low'] as const).map((l) => h('option', { value: l, selected: filter.level === l }, LEVEL_TEXT[l])),
      );
      const ids = [...new Set([...behaviors.map((b) => b.id), ...(filter.behavior ? [filter.behavior] : [])])];
      const behavior = h(
        'select',
        { id: 'f-behavior', name: 'behavior' },
        h('option', { value: '' }, 'Any behavior'),
        ids.map((id) => h('option', { value: id, selected: filter.behavior === id }, humanize(id))),
      );
      const search = h('input', {
        id: 'f-q',
        name: 'q',
        type: 'search',
        value: filter.q,
        placeholder: 'e.g. alice@',
        autocomplete: 'off',
        spellcheck: 'false',
      });
      level.addEventListener('change', () => ((filter.level = level.value), changed()));
      behavior.addEventListener('change', () => ((filter.behavior = behavior.value), changed()));
      search.addEventListener('input', () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => ((filter.q = search.value.trim()), changed()), 250);
      });
      const countsEl = h('div', { class: 'counts-wrap' });
      const tableEl = h('div', { class: 'table-region', 'aria-busy': 'false' });
      counts = new Region(countsEl);
      table = new Region(tableEl);
      main.append(
        h('h1', { tabindex: -1 }, 'Users by risk'),
        countsEl,
        h(
          'form',
          { class: 'filters', role: 'search', 'aria-label': 'Filter users', 'on:submit': (e: Event) => e.preventDefault() },
          h('div', { class: 'field' }, h('label', { for: 'f-level' }, 'Level'), level),
          h('div', { class: 'field' }, h('label', { for: 'f-behavior' }, 'Behavior'), behavior),
          h('div', { class: 'field grow' }, h('label', { for: 'f-q' }, 'Search users'), search),
        ),
        tableEl,
      );
      await load();
    },
    refresh: load,
    unmount: () => clearTimeout(debounce),
  };
}
