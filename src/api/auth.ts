import { createHash, timingSafeEqual } from 'node:crypto';

/** What a route requires. */
export type Scope = 'public' | 'admin' | 'ingest' | 'ssf' | 'metrics';

/** Holds bearer tokens as SHA-256 digests and checks them in constant time. */
export class TokenSet {
  private admin: Buffer[] = [];
  private ingest: Buffer[] = [];
  private ssf: Buffer[] = [];
  private metrics: Buffer[] = [];

  constructor(admin: string[], ingest: string[], ssf: string[] = [], metrics: string[] = []) {
    this.set(admin, ingest, ssf, metrics);
  }

  /** Replaces the tokens (config reload). */
  set(admin: string[], ingest: string[], ssf: string[] = [], metrics: string[] = []): void {
    this.admin = admin.map(digest);
    this.ingest = ingest.map(digest);
    this.ssf = ssf.map(digest);
    this.metrics = metrics.map(digest);
  }

  /**
   * Checks an Authorization header for a scope: `ok`, `missing` (→ 401), `invalid` (→ 401),
   * `forbidden` (valid token without the scope → 403). Admin tokens carry every scope; ingest
   * tokens only `ingest`; SSF receiver tokens only the stream management API (`ssf`); metrics
   * tokens (Prometheus) only `GET /metrics` (`metrics`).
   */
  check(header: string | undefined, scope: Scope): 'ok' | 'missing' | 'invalid' | 'forbidden' {
    if (scope === 'public') return 'ok';
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return 'missing';
    const d = digest(m[1]!);
    const isAdmin = anyEqual(this.admin, d);
    const isIngest = anyEqual(this.ingest, d);
    const isSsf = anyEqual(this.ssf, d);
    const isMetrics = anyEqual(this.metrics, d);
    if (!isAdmin && !isIngest && !isSsf && !isMetrics) return 'invalid';
    if (isAdmin) return 'ok';
    if (scope === 'ingest' && isIngest) return 'ok';
    if (scope === 'ssf' && isSsf) return 'ok';
    if (scope === 'metrics' && isMetrics) return 'ok';
    return 'forbidden';
  }

  /** A short non-secret label for audit entries (`admin:ab12cd34`). */
  static actor(header: string | undefined): string {
    const m = header ? /^Bearer\s+(\S+)/i.exec(header) : null;
    return m ? `token:${createHash('sha256').update(m[1]!).digest('hex').slice(0, 8)}` : 'anonymous';
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function anyEqual(list: Buffer[], d: Buffer): boolean {
  let found = false;
  for (const t of list) if (timingSafeEqual(t, d)) found = true; // no early exit
  return found;
}
