/** The user page's parts that only show data: the level head, each active behavior's card, the sessions table. */
import type { Device, Session, UserRisk } from '../../api.js';
import { h, type Child } from '../../dom.js';
import { humanize, travelPair, travelWords } from '../../format.js';
import { travelMap } from '../../map.js';
import { levelBadge, pairs, time, tree } from '../../ui.js';
import { sessionRows } from '../session-rows.js';

/** The user's sessions as read, or why they could not be. */
export type SessionsRead = { sessions: Session[]; devices: Device[] } | { error: string };

/** The level, its version and times, and the Reset button (disabled while `resetting` or with nothing to reset). */
export function renderHead(r: UserRisk, resetting: boolean, reset: () => void): HTMLElement {
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
          'on:click': reset,
        },
        'Reset risk…',
      ),
      nothing ? h('span', { id: 'reset-note', class: 'muted small' }, 'Nothing to reset: low, no active behaviors.') : null,
    ),
  );
}

/** One active behavior: its evidence in words, the travel map when it has a pair of places, its times. */
export function behaviorCard(b: UserRisk['behaviors'][number]): HTMLElement {
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

/** "Why this level": each active behavior, or that none is. */
export function renderWhy(r: UserRisk): Child {
  return r.behaviors.length
    ? r.behaviors.map(behaviorCard)
    : h('p', { class: 'empty' }, r.level === 'low' ? 'No active behaviors: the level is Low.' : 'No active behaviors.');
}

/** The user's active sessions, or why they could not be read. */
export function renderSessions(user: string, s: SessionsRead): Child {
  if ('error' in s) return h('p', { class: 'error', 'data-sessions': 'error' }, `Sessions could not be read: ${s.error}`);
  if (!s.sessions.length) return h('p', { class: 'empty' }, 'No active sessions.');
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `Sessions of ${user}` },
    h('table', { class: 'data' }, h('caption', null, `Active sessions of ${user}`), ...sessionRows(s.sessions, false)),
  );
}
