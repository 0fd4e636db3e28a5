/** The active-sessions table's head and body, shared by the sessions list and a user's page. */
import type { Session } from '../api.js';
import { h } from '../dom.js';
import { geoPlace } from '../format.js';
import { sessionLink, time, userLink } from '../ui.js';

/** `thead` and `tbody` of a sessions table; `withUser`: a User column after the session's (the list of everyone's). */
export function sessionRows(sessions: Session[], withUser: boolean): [HTMLElement, HTMLElement] {
  const cols = ['Session', ...(withUser ? ['User'] : []), 'IdP', 'Device', 'IP / place', 'Login', 'Expires'];
  return [
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        cols.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      sessions.map((x) =>
        h(
          'tr',
          { 'data-session': x.session_id },
          h('th', { scope: 'row' }, sessionLink(x.session_id, x.user)),
          withUser ? h('td', null, userLink(x.user)) : null,
          h('td', null, x.idp ?? '—'),
          h('td', { class: 'mono' }, String(x.device?.id ?? '—')),
          h('td', null, x.ip ?? '—', geoPlace(x.geo) ? h('span', { class: 'muted' }, ` · ${geoPlace(x.geo)}`) : null),
          h('td', null, time(x.login_at)),
          h('td', null, time(x.expires_at)),
        ),
      ),
    ),
  ];
}
