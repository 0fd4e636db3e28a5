import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { RiskstreamError } from '../errors.js';

/** One SET a local receiver got, with the verdict of its signature check. */
export interface ReceivedSet {
  path: string;
  token: string;
  header: Record<string, unknown>;
  claims: JWTPayload & Record<string, unknown>;
  contentType: string | undefined;
  accept: string | undefined;
  authorization: string | undefined;
  verified: boolean;
  error?: string;
  at: number;
}

/** What the receiver answers. */
export interface ReceiverResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Options of {@link startLocalReceiver}. */
export interface LocalReceiverOptions {
  /** Transmitter JWKS URL; can also be set later with `setJwks`. */
  jwksUrl?: string;
  /** Expected `aud` / `iss` (checked when given). */
  audience?: string;
  issuer?: string;
  port?: number;
  host?: string;
}

/**
 * A small RFC 8935 push receiver: accepts `POST` of a compact SET, verifies its signature against
 * the transmitter's JWKS (explicit `typ: secevent+jwt`, and `aud`/`iss` when configured), records
 * it and answers 202 — or 400 `{err, description}` when verification fails, as a real receiver
 * would. Used by the demo and the tests; `respond` lets tests script failures.
 */
export class LocalReceiver {
  readonly received: ReceivedSet[] = [];
  /** Overrides the answer (default: 202 when verified, else 400 per RFC 8935). */
  respond?: (set: ReceivedSet, n: number) => ReceiverResponse;
  url = '';
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly server: Server;

  constructor(private readonly opts: LocalReceiverOptions = {}) {
    if (opts.jwksUrl) this.setJwks(opts.jwksUrl);
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Sets the JWKS URL used to verify signatures. */
  setJwks(url: string): void {
    this.jwks = createRemoteJWKSet(new URL(url), { cooldownDuration: 0, cacheMaxAge: 1000 });
  }

  /** Starts listening; resolves with the base URL. */
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void this.verify(req, Buffer.concat(chunks).toString('utf8').trim()).then((set) => {
        this.received.push(set);
        const out =
          this.respond?.(set, this.received.length) ??
          (set.verified ? { status: 202 } : { status: 400, body: { err: 'authentication_failed', description: set.error ?? 'invalid SET' } });
        res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
        res.end(out.body === undefined ? '' : JSON.stringify(out.body));
      });
    });
  }

  private async verify(req: IncomingMessage, token: string): Promise<ReceivedSet> {
    const set: ReceivedSet = {
      path: req.url ?? '/',
      token,
      header: {},
      claims: {},
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      authorization: req.headers.authorization,
      verified: false,
      at: Date.now(),
    };
    try {
      set.header = decodeProtectedHeader(token) as Record<string, unknown>;
      if (!this.jwks) throw new RiskstreamError('KEY_NOT_FOUND', 'no JWKS configured');
      const v = await jwtVerify(token, this.jwks, {
        typ: 'secevent+jwt',
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
      });
      set.claims = v.payload as ReceivedSet['claims'];
      set.verified = true;
    } catch (e) {
      set.error = (e as Error).message;
      try {
        set.claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as ReceivedSet['claims'];
      } catch {
        /* not a JWT at all */
      }
    }
    return set;
  }
}

/** The single event of a SET's `events` claim, with its type URI. */
export function eventOf(set: Pick<ReceivedSet, 'claims'>): { type: string; body: Record<string, unknown> } {
  const events = (set.claims.events ?? {}) as Record<string, Record<string, unknown>>;
  const [type, body] = Object.entries(events)[0] ?? ['', {}];
  return { type, body };
}
