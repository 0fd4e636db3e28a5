/** One session's stored identity (what the IdP granted, device, network) with Revoke. */
import { api, ApiError, qs, seg, type Session } from '../api.js';
import { h, Region } from '../dom.js';
import { CUT_SECTIONS, cutNotice, sectionForDisplay } from '../identity.js';
import { announce, confirmDialog, errorBox, errorText, pairs, time, tree, userLink } from '../ui.js';
import { hashQuery, type View } from '../view.js';

export function sessionView(id: string): View {
  /**
   * Whose copy of the id this page shows (users of different partitions may have logged in with one
   * id): the link's `?user=`, else the user of the first copy read (the earliest login's). Reads and
   * Revoke address that copy only: another user's session under the id is never shown or revoked here.
   */
  let owner = hashQuery().get('user') ?? undefined;
  let body: Region;
  let revoked = false;
  // While the DELETE is in flight no refresh reads the session (it could be answered 404 after the
  // deletion: a failed request the browser reports), and a read already in flight finishes first.
  let revoking = false;
  let loading: Promise<void> | undefined;

  /** The Revoke button, disabled while a revocation is in flight (a second one would only be told 404). */
  const revokeButton = (disabled: boolean): void => {
    const b = body.el.querySelector<HTMLButtonElement>('[data-key="revoke"]');
    if (!b) return;
    b.disabled = disabled;
    if (!disabled && document.activeElement === document.body) b.focus(); // back where the keyboard user was
  };

  async function revoke(s: Session): Promise<void> {
    if (revoking || revoked) return;
    const ok = await confirmDialog({
      title: `Revoke session ${s.session_id}?`,
      body: h(
        'p',
        null,
        `${s.user} is signed out of this session: it is deleted here, an audit entry is written and every receiver is sent a session-revoked event.`,
      ),
      confirmLabel: 'Revoke session',
      danger: true,
      reason: { label: 'Reason (kept in the audit log and sent to receivers)', placeholder: 'revoked by admin' },
    });
    if (!ok || revoking || revoked) return;
    revoking = true;
    revokeButton(true);
    await loading;
    let gone = false;
    try {
      await api(`/v1/sessions/${seg(s.session_id)}${qs({ user: s.user })}`, { method: 'DELETE', body: ok.reason ? { reason: ok.reason } : {} });
      revoked = true;
      body.reset();
      body.update('revoked', () =>
        h(
          'div',
          { class: 'notice notice-ok' },
          h('p', null, h('strong', null, 'Session revoked. '), 'A session-revoked event was queued for the receivers.'),
          h('p', null, h('a', { href: '#/sessions' }, 'Back to all sessions'), ' · ', userLink(s.user, 'revoked-user')),
        ),
      );
      announce(`Session ${s.session_id} revoked.`, 'ok');
      body.el.querySelector<HTMLElement>('a')?.focus();
    } catch (err) {
      // 404: it ended meanwhile (expired, signed out, revoked by someone else): said as such, the page read again.
      if (err instanceof ApiError && err.status === 404) announce(`Session ${s.session_id} is no longer active: there was nothing to revoke.`, 'info');
      else announce(`Revoke failed: ${errorText(err)}`, 'error');
      gone = err instanceof ApiError && err.status === 404;
    } finally {
      revoking = false;
      if (!revoked) revokeButton(false);
    }
    if (gone) await load();
  }

  function render(s: Session): HTMLElement {
    const known = new Set([
      'session_id',
      'user',
      'idp',
      'claims',
      'device',
      'network',
      'ip',
      'geo',
      'login_at',
      'expires_at',
      'event_id',
      'attributes',
      'refreshed_at',
      'from_refresh',
      'truncated',
    ]);
    const other = Object.fromEntries(Object.entries(s).filter(([k]) => !known.has(k)));
    const shown = (k: (typeof CUT_SECTIONS)[number]): unknown => sectionForDisplay(s, k);
    const section = (hid: string, title: string, value: unknown) =>
      h(
        'section',
        { class: 'card', 'aria-labelledby': hid },
        h('h2', { id: hid }, title),
        value && (typeof value !== 'object' || value instanceof HTMLElement || Object.keys(value).length)
          ? tree(value)
          : h('p', { class: 'muted' }, 'Not reported.'),
      );
    return h(
      'div',
      null,
      pairs([
        ['User', userLink(s.user)],
        ['IdP', s.idp ?? '—'],
        ['Login', time(s.login_at)],
        s.from_refresh ? ['Started by', 'a session refresh (no login seen for it)'] : null,
        s.refreshed_at !== undefined ? ['Last refreshed', time(s.refreshed_at)] : null,
        ['Expires', time(s.expires_at)],
        ['IP', s.ip ?? '—'],
        ['Login event', s.event_id ?? '—'],
      ]),
      cutNotice(s),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-danger', 'data-key': 'revoke', disabled: revoking, 'on:click': () => void revoke(s) }, 'Revoke session…'),
      ),
      h(
        'div',
        { class: 'cards cards-2' },
        section('s-claims', 'IdP claims', shown('claims')),
        section('s-device', 'Device and posture', shown('device')),
        section('s-network', 'Network context', {
          ...((shown('network') as object | undefined) ?? {}),
          ...(s.ip ? { ip: s.ip } : {}),
          ...(s.geo ? { location: shown('geo') } : {}),
        }),
        s.attributes && Object.keys(s.attributes).length ? section('s-attrs', 'Other session attributes', shown('attributes')) : null,
        Object.keys(other).length ? section('s-other', 'Other fields', other) : null,
      ),
    );
  }

  function load(): Promise<void> {
    if (revoked || revoking) return Promise.resolve();
    const p = read().finally(() => {
      if (loading === p) loading = undefined;
    });
    loading = p;
    return p;
  }

  async function read(): Promise<void> {
    try {
      const s = await api<Session>(`/v1/sessions/${seg(id)}${qs({ user: owner })}`);
      if (revoked) return; // revoked while this refresh was reading: the notice stays
      owner ??= s.user;
      body.update(s, () => render(s));
    } catch (err) {
      if (revoked) return;
      body.reset();
      body.el.replaceChildren(
        err instanceof ApiError && err.status === 404
          ? h('p', { class: 'empty' }, 'This session is no longer active (it expired or was revoked).')
          : errorBox(err),
      );
    }
  }

  return {
    title: `Session ${id}`,
    nav: 'sessions',
    async mount(main) {
      const el = h('div');
      body = new Region(el);
      main.append(
        h('p', { class: 'crumbs' }, h('a', { href: '#/sessions' }, '← All sessions')),
        h('h1', { tabindex: -1, class: 'mono-title' }, `Session ${id}`),
        el,
      );
      await load();
    },
    refresh: load,
  };
}
