import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, type JWTPayload } from 'jose';

/** One SET the receiver got. */
export interface ReceivedSet {
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

/** A real RFC 8935 push receiver for tests: verifies each SET against the transmitter's JWKS. */
export interface TestReceiver {
  url: string;
  received: ReceivedSet[];
  /** Decides the response for each request (default 202). */
  respond: (set: ReceivedSet, n: number) => { status: number; body?: unknown; headers?: Record<string, string> };
  /** Sets the JWKS URL used to verify (e.g. the worker's /.well-known/jwks.json). */
  setJwks(url: string): void;
  close(): Promise<void>;
}

export async function startReceiver(opts: { jwksUrl?: string; audience?: string; issuer?: string } = {}): Promise<TestReceiver> {
  let jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 0 }) : undefined;
  const received: ReceivedSet[] = [];
  const r: TestReceiver = {
    url: '',
    received,
    respond: () => ({ status: 202 }),
    setJwks: (url) => void (jwks = createRemoteJWKSet(new URL(url), { cooldownDuration: 0 })),
    close: () => new Promise((res) => server.close(() => res())),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const token = Buffer.concat(chunks).toString('utf8').trim();
        const set: ReceivedSet = {
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
          if (!jwks) throw new Error('no JWKS configured');
          const v = await jwtVerify(token, jwks, {
            typ: 'secevent+jwt',
            ...(opts.audience ? { audience: opts.audience } : {}),
            ...(opts.issuer ? { issuer: opts.issuer } : {}),
          });
          set.claims = v.payload as ReceivedSet['claims'];
          set.verified = true;
        } catch (e) {
          set.error = (e as Error).message;
          try {
            set.claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as ReceivedSet['claims'];
          } catch {
            /* not a JWT */
          }
        }
        received.push(set);
        const out = r.respond(set, received.length);
        res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
        res.end(out.body === undefined ? '' : JSON.stringify(out.body));
      })();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

/** The single event object of a SET's `events` claim, with its type URI. */
export function eventOf(set: ReceivedSet): { type: string; body: Record<string, unknown> } {
  const events = set.claims.events as Record<string, Record<string, unknown>>;
  const [type, body] = Object.entries(events)[0]!;
  return { type, body };
}
