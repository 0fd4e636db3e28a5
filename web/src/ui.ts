/** Shared pieces: level badges, readable trees, the confirm dialog, announcements, links. */
import { ApiError } from './api.js';
import { h, type Child } from './dom.js';
import { LEVEL_TEXT, isoOf, when } from './format.js';

export function levelBadge(level: string, extra = ''): HTMLElement {
  return h('span', { class: `level level-${level} ${extra}`.trim() }, LEVEL_TEXT[level] ?? level);
}

export function time(t: string | number | null | undefined): HTMLElement {
  const iso = isoOf(t);
  if (!iso) return h('span', { class: 'muted' }, '—');
  // Date and time of day each stay on one line: a narrow column wraps between them only.
  const text = when(t);
  const cut = text.indexOf(' ');
  return h('time', { datetime: iso }, h('span', { class: 'nowrap' }, text.slice(0, cut)), ' ', h('span', { class: 'nowrap' }, text.slice(cut + 1)));
}

export const userHref = (user: string): string => `#/users/${encodeURIComponent(user)}`;
/** A session's page; `user`: that user's copy of the id (users of different partitions may have logged in with one id). */
export const sessionHref = (id: string, user?: string): string =>
  `#/sessions/${encodeURIComponent(id)}${user === undefined ? '' : `?user=${encodeURIComponent(user)}`}`;

export function userLink(user: string, key = `user:${user}`): HTMLElement {
  return h('a', { href: userHref(user), 'data-key': key, class: 'mono' }, user);
}

export function sessionLink(id: string, user?: string, key = `session:${id}:${user ?? ''}`): HTMLElement {
  return h('a', { href: sessionHref(id, user), 'data-key': key, class: 'mono' }, id);
}

/** Name/value pairs as a description list (values may be nodes). */
export function pairs(rows: Array<[string, Child] | null | false>, cls = 'pairs'): HTMLElement {
  return h(
    'dl',
    { class: cls },
    rows
      .filter((r): r is [string, Child] => !!r)
      .map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v === '' || v === undefined || v === null ? '—' : v))),
  );
}

function scalar(v: unknown): HTMLElement {
  if (v === null || v === undefined) return h('span', { class: 'v-null' }, 'null');
  if (typeof v === 'boolean') return h('span', { class: `v-bool v-${v}` }, v ? 'yes' : 'no');
  if (typeof v === 'number') return h('span', { class: 'v-num' }, String(v));
  const str = String(v);
  return h('span', { class: str === '[redacted]' ? 'v-str v-redacted' : 'v-str' }, str);
}

/**
 * A JSON value as a readable tree: objects as name/value lists, arrays as lists, nested levels
 * indented; values deeper than `open` levels sit in a disclosure (keyboard operable).
 */
export function tree(value: unknown, depth = 0, open = 3): HTMLElement {
  // A node put in place of a value by the caller (API data, parsed JSON, never holds one).
  if (value instanceof HTMLElement) return value;
  if (Array.isArray(value)) {
    if (!value.length) return h('span', { class: 'v-null' }, 'empty list');
    if (value.every((v) => v === null || typeof v !== 'object'))
      return h(
        'span',
        { class: 'v-list' },
        value.map((v, i) => [i ? ', ' : '', scalar(v)]),
      );
    return h(
      'ol',
      { class: 'tree-list' },
      value.map((v) => h('li', null, tree(v, depth + 1, open))),
    );
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) return h('span', { class: 'v-null' }, 'empty');
    const dl = h(
      'dl',
      { class: 'tree' },
      entries.map(([k, v]) => {
        const nested =
          v !== null &&
          typeof v === 'object' &&
          !(v instanceof HTMLElement) &&
          (Array.isArray(v) ? v.some((x) => x !== null && typeof x === 'object') : Object.keys(v).length > 0);
        const inner = tree(v, depth + 1, open);
        return h(
          'div',
          { class: nested ? 'tree-row nested' : 'tree-row' },
          h('dt', null, k),
          h('dd', null, nested && depth + 1 >= open ? h('details', null, h('summary', null, `${Object.keys(v as object).length} fields`), inner) : inner),
        );
      }),
    );
    return dl;
  }
  return scalar(value);
}

/* ---- announcements ---- */

let liveRegion: HTMLElement | null = null;

export function setLiveRegion(el: HTMLElement): void {
  liveRegion = el;
}

/** Says something to screen readers and shows it in the status bar. */
export function announce(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  if (!liveRegion) return;
  liveRegion.className = `status status-${kind}`;
  liveRegion.textContent = '';
  // A separate task so repeated identical messages are announced again.
  setTimeout(() => {
    if (liveRegion) liveRegion.textContent = text;
  }, 30);
}

/** Clears the status bar (on navigation: a message belongs to the page it was said on). */
export function clearStatus(): void {
  if (liveRegion) liveRegion.textContent = '';
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `${err.message} (HTTP ${err.status})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function errorBox(err: unknown): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, errorText(err));
}

/* ---- confirm dialog ---- */

export interface ConfirmOptions {
  title: string;
  body: Child;
  confirmLabel: string;
  /** Asks for a reason (recorded in the audit log). */
  reason?: { label: string; placeholder?: string; required?: boolean; value?: string };
  danger?: boolean;
}

let dialogSeq = 0;

/**
 * A modal confirmation (native `<dialog>`: focus is trapped, Escape cancels, focus returns to
 * the opener). Resolves with the reason, or null when cancelled.
 */
export function confirmDialog(o: ConfirmOptions): Promise<{ reason: string } | null> {
  const id = `dlg-${++dialogSeq}`;
  const opener = document.activeElement as HTMLElement | null;
  return new Promise((resolve) => {
    const reason = o.reason
      ? h('textarea', {
          id: `${id}-reason`,
          name: 'reason',
          rows: 3,
          maxlength: 500,
          placeholder: o.reason.placeholder ?? '',
          required: o.reason.required ?? false,
          value: o.reason.value ?? '',
        })
      : null;
    const problem = h('p', { class: 'error', id: `${id}-problem`, hidden: true, role: 'alert' });
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const ok = h('button', { type: 'submit', class: o.danger ? 'btn btn-danger' : 'btn btn-primary' }, o.confirmLabel);
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: `${id}-title` }, o.title),
      h('div', { id: `${id}-body`, class: 'dialog-body' }, o.body),
      reason && o.reason ? h('div', { class: 'field' }, h('label', { for: `${id}-reason` }, o.reason.label), reason) : null,
      problem,
      h('div', { class: 'dialog-actions' }, cancel, ok),
    );
    const dlg = h('dialog', { 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-body`, class: 'dialog' }, form);
    let done = false;
    const finish = (v: { reason: string } | null): void => {
      if (done) return;
      done = true;
      if (dlg.open) dlg.close();
      dlg.remove();
      if (opener?.isConnected) opener.focus();
      resolve(v);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = reason?.value.trim() ?? '';
      if (o.reason?.required && !text) {
        problem.textContent = 'Please give a reason.';
        problem.hidden = false;
        reason?.focus();
        return;
      }
      finish({ reason: text });
    });
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    document.body.append(dlg);
    dlg.showModal();
    (reason ?? cancel).focus();
  });
}

/** A "Previous / Next" pager over opaque cursors. */
export class Pager {
  private stack: Array<string | null> = [null];
  next: string | null = null;

  get cursor(): string | null {
    return this.stack[this.stack.length - 1] ?? null;
  }
  get page(): number {
    return this.stack.length;
  }
  reset(): void {
    this.stack = [null];
    this.next = null;
  }
  /** To the next page; again only once that page's read has set `next` (a double click moves one page, not two onto the same cursor). */
  forward(): void {
    if (!this.next) return;
    this.stack.push(this.next);
    this.next = null;
  }
  back(): void {
    if (this.stack.length > 1) this.stack.pop();
  }

  render(label: string, go: () => void): HTMLElement {
    return h(
      'nav',
      { class: 'pager', 'aria-label': label },
      h('button', { type: 'button', class: 'btn', 'data-key': 'pager-prev', disabled: this.page <= 1, 'on:click': () => (this.back(), go()) }, '← Previous'),
      h('span', { class: 'muted' }, `Page ${this.page}`),
      h('button', { type: 'button', class: 'btn', 'data-key': 'pager-next', disabled: !this.next, 'on:click': () => (this.forward(), go()) }, 'Next →'),
    );
  }
}
