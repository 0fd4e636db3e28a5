/** What a page of the console is. */
export interface View {
  /** Document title (the app adds "— riskstream"). */
  title: string;
  /** Which navigation item is current. */
  nav: 'risk' | 'sessions' | 'receivers' | 'audit';
  /** Renders into `main` (its h1 first). */
  mount(main: HTMLElement): Promise<void>;
  /** Live update: re-reads its data and re-renders what changed. */
  refresh?(): Promise<void>;
  /** Refresh every n-th tick (default 1; a tick is a few seconds). */
  every?: number;
  unmount?(): void;
}

/** Query parameters of the current hash route (`#/audit?action=risk`). */
export function hashQuery(): URLSearchParams {
  const hash = location.hash;
  const i = hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? hash.slice(i + 1) : '');
}

/** Rewrites the current route's query without navigating (keeps focus, no history spam). */
export function replaceQuery(params: Record<string, string | null | undefined>): void {
  const hash = location.hash || '#/';
  const base = hash.split('?')[0]!;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
  const q = p.toString();
  history.replaceState(history.state, '', `${base}${q ? `?${q}` : ''}`);
}
