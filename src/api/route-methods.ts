/**
 * The methods each registered route answers, to tell a path that exists but not with this method
 * (405, with `Allow`) from one that does not exist (404). Fastify answers both with its not-found
 * handler; this table is filled by its `onRoute` hook.
 */
export class RouteMethods {
  readonly #routes: Array<{ re: RegExp; methods: Set<string>; open: boolean }> = [];

  /**
   * Records a route (`url` as fastify takes it: `/v1/users/:user/risk`, `::` for a literal colon);
   * `open`: answered without a token (`/healthz`, the JWKS …).
   */
  add(url: string, method: string | readonly string[], open = false): void {
    const re = patternOf(url);
    const known = this.#routes.find((r) => r.re.source === re.source);
    const methods = known?.methods ?? new Set<string>();
    for (const m of typeof method === 'string' ? [method] : method) methods.add(m.toUpperCase());
    if (known) known.open ||= open;
    else this.#routes.push({ re, methods, open });
  }

  /** True when a route answered without a token has `path`: asked with another method, it is a 405 for anyone. */
  open(path: string): boolean {
    return this.#routes.some((r) => r.open && r.re.test(path));
  }

  /** The methods `path` (no query) is answered with, sorted; empty when no route has it. */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.#routes) if (r.re.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/** A fastify route url as a regular expression over concrete paths: `:name` is one segment, `*` anything, `::` a colon. */
function patternOf(url: string): RegExp {
  let out = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!;
    if (c === ':' && url[i + 1] === ':') {
      out += ':';
      i++;
    } else if (c === ':') {
      while (i + 1 < url.length && /[\w-]/.test(url[i + 1]!)) i++;
      out += '[^/]+';
    } else if (c === '*') out += '.*';
    else out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}/?$`);
}
