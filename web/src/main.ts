/** The riskstream admin console: sign-in with an admin token, hash routes, live refresh. */
import './styles.css';
import { api, ApiError, getToken, onUnauthorized, setToken } from './api.js';
import { h } from './dom.js';
import { clearStatus, errorText, setLiveRegion } from './ui.js';
import type { View } from './view.js';
import { auditView } from './views/audit.js';
import { receiversView } from './views/receivers.js';
import { riskView } from './views/risk.js';
import { sessionView } from './views/session.js';
import { sessionsView } from './views/sessions.js';
import { userView } from './views/user.js';

/** Live refresh period (ms). */
const TICK = 3000;

const app = document.getElementById('app')!;
let view: View | null = null;
let main: HTMLElement | null = null;
let liveText: HTMLElement | null = null;
let timer: ReturnType<typeof setInterval> | undefined;
let ticks = 0;
let busy = false;
let routeSeq = 0;

function route(): View {
  const path = (location.hash.replace(/^#/, '') || '/').split('?')[0]!;
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts[0] === 'users' && parts[1]) return userView(parts[1]);
  if (parts[0] === 'sessions' && parts[1]) return sessionView(parts[1]);
  if (parts[0] === 'sessions') return sessionsView();
  if (parts[0] === 'receivers') return receiversView();
  if (parts[0] === 'audit') return auditView();
  return riskView();
}

const NAV: Array<[View['nav'], string, string]> = [
  ['risk', '#/risk', 'Users by risk'],
  ['sessions', '#/sessions', 'Sessions'],
  ['receivers', '#/receivers', 'Receivers & behaviors'],
  ['audit', '#/audit', 'Audit log'],
];

function shell(): void {
  const status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  setLiveRegion(status);
  liveText = h('span', { class: 'live', id: 'live' }, 'Live');
  // Which token is signed in, as the audit log names it (actor token:xxxxxxxx): find your own actions.
  const whoText = h('span', { class: 'who muted small', id: 'who' });
  void api<{ actor: string }>('/v1/whoami')
    .then((r) => {
      whoText.replaceChildren(
        'signed in as ',
        h('a', { class: 'mono', href: `#/audit?actor=${encodeURIComponent(r.actor)}`, title: 'Your actions in the audit log' }, r.actor),
      );
    })
    .catch(() => undefined);
  main = h('main', { id: 'main', tabindex: -1 });
  const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    (main?.querySelector<HTMLElement>('h1') ?? main)?.focus();
  });
  app.replaceChildren(
    skip,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/risk' }, 'riskstream', h('span', { class: 'brand-sub' }, ' console')),
      h(
        'nav',
        { 'aria-label': 'Main' },
        h(
          'ul',
          null,
          NAV.map(([id, href, label]) => h('li', null, h('a', { href, 'data-nav': id }, label))),
        ),
      ),
      h(
        'div',
        { class: 'top-right' },
        whoText,
        liveText,
        h('button', { type: 'button', class: 'btn btn-quiet', 'on:click': () => signOut('Signed out.') }, 'Sign out'),
      ),
    ),
    status,
    main,
  );
}

async function show(): Promise<void> {
  if (!main) return;
  const seq = ++routeSeq;
  const before = document.activeElement;
  view?.unmount?.();
  const v = route();
  view = v;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === v.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${v.title} — riskstream`;
  clearStatus();
  // Each page renders into its own container: a slow page left behind writes into a detached one.
  const page = h('div', { class: 'page' });
  main.replaceChildren(page);
  main.setAttribute('aria-busy', 'true');
  try {
    await v.mount(page);
  } catch (err) {
    if (seq === routeSeq) page.append(h('p', { class: 'error', role: 'alert' }, errorText(err)));
  }
  if (seq !== routeSeq) return;
  main.setAttribute('aria-busy', 'false');
  // Move focus to the new page's heading, so screen readers announce the page — unless the
  // user has moved focus somewhere else while it loaded.
  const active = document.activeElement;
  if (!active || active === before || active === document.body || !active.isConnected || page.contains(active)) main.querySelector<HTMLElement>('h1')?.focus();
}

async function tick(): Promise<void> {
  if (!view?.refresh || busy || document.hidden || document.querySelector('dialog[open]')) return;
  ticks++;
  if (ticks % (view.every ?? 1) !== 0) return;
  busy = true;
  const v = view;
  try {
    await v.refresh!();
    if (liveText && v === view) {
      liveText.textContent = 'Live';
      liveText.className = 'live';
      liveText.title = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
    }
  } catch (err) {
    if (liveText && !(err instanceof ApiError && err.status === 401)) {
      liveText.textContent = 'Offline';
      liveText.className = 'live live-off';
      liveText.title = errorText(err);
    }
  } finally {
    busy = false;
  }
}

function start(): void {
  shell();
  void show();
  clearInterval(timer);
  timer = setInterval(() => void tick(), TICK);
}

function signOut(message: string, kind: 'info' | 'error' = 'info'): void {
  setToken(null);
  clearInterval(timer);
  view?.unmount?.();
  view = null;
  main = null;
  signIn(message, kind);
}

function signIn(message = '', kind: 'info' | 'error' = 'info'): void {
  document.title = 'Sign in — riskstream';
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-help' + (message ? ' login-msg' : ''),
  });
  const msg = h('p', { id: 'login-msg', class: kind === 'error' ? 'error' : 'muted', role: kind === 'error' ? 'alert' : 'status' }, message);
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login card', 'aria-labelledby': 'login-h' },
    h('h1', { id: 'login-h' }, 'riskstream console'),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Admin token'), input),
    h(
      'p',
      { id: 'token-help', class: 'muted small' },
      'An admin bearer token of this worker (http.admin_tokens). It is kept in this browser tab only (session storage) and sent with each API request.',
    ),
    msg,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    msg.className = 'muted';
    msg.setAttribute('role', 'status');
    msg.textContent = 'Checking the token…';
    try {
      await api('/v1/behaviors', { token });
      setToken(token);
      start();
    } catch (err) {
      msg.className = 'error';
      msg.setAttribute('role', 'alert');
      msg.textContent =
        err instanceof ApiError && err.status === 401
          ? 'That token was not accepted.'
          : err instanceof ApiError && err.status === 403
            ? 'That token is valid but is not an admin token.'
            : `Cannot sign in: ${errorText(err)}`;
      button.disabled = false;
      input.focus();
      input.select();
    }
  });
  app.replaceChildren(h('main', { id: 'main', class: 'login-main' }, form));
  input.focus();
}

onUnauthorized(() => signOut('The worker no longer accepts this token. Please sign in again.', 'error'));
window.addEventListener('hashchange', () => {
  if (main) void show();
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void tick();
});

if (getToken()) start();
else signIn();
