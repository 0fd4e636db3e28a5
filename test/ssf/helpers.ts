/** Test helpers for the SSF transmitter: scriptable HTTP receivers (async answers), fixtures. Redis helpers: ../helpers/redis.ts. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { RECEIVER_EVENTS } from '../../src/config/receiver-schema.js';
import type { KeyRing } from '../../src/ssf/key-ring.js';
import type { LevelChange } from '../../src/types.js';

/** One request a test receiver got. */
export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  claims: JWTPayload;
  status: number;
}

/** Answer of a test receiver: status, optional headers and JSON body. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A node:http receiver on port 0; `answer` decides each response (default 202). */
export async function startReceiver(answer: (req: { n: number; claims: JWTPayload }) => Answer | Promise<Answer> | 'hang' = () => ({ status: 202 })) {
  const requests: Received[] = [];
  const server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      void (async () => {
        const claims = decodeJwt(body);
        const a = await answer({ n: requests.length, claims });
        if (a === 'hang') return;
        requests.push({ at: Date.now(), headers: req.headers, body, claims, status: a.status });
        res.writeHead(a.status, { ...(a.body !== undefined ? { 'content-type': 'application/json' } : {}), ...a.headers });
        res.end(a.body !== undefined ? JSON.stringify(a.body) : undefined);
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A resolved receiver with test defaults. */
export function testReceiver(name: string, endpoint: string, over: Partial<ResolvedReceiver> = {}): ResolvedReceiver {
  return {
    name,
    kind: 'ssf',
    endpoint,
    audience: `https://${name}.example.net`,
    subject_format: 'email',
    events: [...RECEIVER_EVENTS],
    timeout: 2_000,
    enabled: true,
    alg: over.kind === 'okta' ? 'RS256' : 'ES256',
    ...over,
  };
}

/** A level change with defaults. */
export function change(
  user: string,
  version: number,
  previous: LevelChange['previous'],
  current: LevelChange['current'],
  over: Partial<LevelChange> = {},
): LevelChange {
  return {
    id: `chg-${user}-${version}`,
    user,
    version,
    previous,
    current,
    behaviors: current === 'low' ? [] : ['impossible_travel'],
    reason: `level ${current}`,
    initiatingEntity: 'system',
    time: 1_795_420_800_000 + version * 1000,
    ...over,
  };
}

/** Verifies a compact SET against the ring's JWKS (typ enforced). */
export async function verifySet(jws: string, ring: KeyRing, audience: string) {
  return jwtVerify(jws, createLocalJWKSet(ring.jwks()), { typ: 'secevent+jwt', audience, algorithms: ['ES256', 'RS256'] });
}

/** The `events` object's single event of a SET's claims. */
export function onlyEvent(claims: JWTPayload): [string, Record<string, unknown>] {
  const events = claims.events as Record<string, Record<string, unknown>>;
  const entries = Object.entries(events);
  if (entries.length !== 1) throw new Error(`expected one event, got ${entries.length}`);
  return entries[0]!;
}
