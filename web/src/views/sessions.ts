/** All active sessions: newest login first, cursor paging, live. */
import { api, qs, type Session } from '../api.js';
import { h, Region } from '../dom.js';
import { errorBox, Pager } from '../ui.js';
import { sessionRows } from './session-rows.js';
import type { View } from '../view.js';

const PAGE = 50;

export function sessionsView(): View {
  const pager = new Pager();
  let table: Region;
  /** Loads started: only the latest one renders (a tick's read of the previous page, answered late, is dropped). */
  let loads = 0;

  async function load(): Promise<void> {
    const n = ++loads;
    try {
      const data = await api<{ sessions: Session[]; next_cursor: string | null }>(`/v1/sessions${qs({ cursor: pager.cursor, limit: PAGE })}`);
      if (n !== loads) return;
      pager.next = data.next_cursor;
      table.update({ data, page: pager.page }, () =>
        data.sessions.length
          ? h(
              'div',
              null,
              h(
                'div',
                { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Sessions table' },
                h('table', { class: 'data' }, h('caption', null, 'Active sessions, newest login first'), ...sessionRows(data.sessions, true)),
              ),
              pager.render('Sessions pages', () => void load()),
            )
          : h(
              'p',
              { class: 'empty' },
              pager.page > 1 ? 'No more sessions.' : 'No active sessions.',
              pager.page > 1 ? pager.render('Sessions pages', () => void load()) : null,
            ),
      );
    } catch (err) {
      if (n !== loads) return;
      table.reset();
      table.el.replaceChildren(errorBox(err));
    }
  }

  return {
    title: 'Sessions',
    nav: 'sessions',
    async mount(main) {
      const el = h('div');
      table = new Region(el);
      main.append(
        h('h1', { tabindex: -1 }, 'Active sessions'),
        h('p', { class: 'muted' }, 'The identity each session was granted at login: IdP claims, device posture and network. Open one to inspect or revoke it.'),
        el,
      );
      await load();
    },
    refresh: load,
  };
}
