/**
 * How the admin API reads request bodies: as JSON, by fastify's own parser (prototype-poisoning
 * checks included), whatever type a client that sends JSON says it is; a blank body as no body.
 * (`POST /v1/events` reads its own types.)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RiskstreamError } from '../errors.js';

/** Content types whose body the API reads as JSON besides application/json (see the catch-all parser). */
const LENIENT_TYPES = new Set(['', 'text/plain', 'application/x-www-form-urlencoded']);

/** True when a body of this Content-Type is read as JSON: none, text/plain, a form type, or `…+json`. */
export function readsAsJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return LENIENT_TYPES.has(type) || type.endsWith('+json');
}

type Done = (err: Error | null, body?: unknown) => void;
type Parse = (req: FastifyRequest, text: string, done: Done) => void;

/**
 * Replaces fastify's body parsers with the API's: `application/json` by fastify's JSON parser; any
 * other type read as JSON too when {@link readsAsJson} (a body that is not JSON: 400), else refused
 * with 415 — never handed to a route as a string (that read as a body without its fields). Clients
 * that send a content type on every request (DELETE /v1/sessions/{id}, POST …/risk/reset) with no
 * body get "no body", not a 400 or 415: a blank body is skipped by every parser alike.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  const blankIsNoBody = (parse: Parse) => (req: FastifyRequest, body: string | Buffer, done: Done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    return text.trim() === '' ? done(null, undefined) : parse(req, text, done);
  };
  // A JSON body is parsed by fastify's own parser (prototype-poisoning checks included).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, blankIsNoBody(json));
  // Clients that send JSON without saying so — no type, text/plain (fetch's default for a string),
  // a form type (curl -d) or a `+json` type — get it read as JSON all the same.
  app.addContentTypeParser(
    '*',
    { parseAs: 'string' },
    blankIsNoBody((req, text, done) =>
      readsAsJson(req.headers['content-type'])
        ? json(req, text, (err, body) => (err ? done(new RiskstreamError('BAD_REQUEST', 'the body is not valid JSON')) : done(null, body)))
        : done(new RiskstreamError('UNSUPPORTED_MEDIA_TYPE', 'a body of this type is not read: send JSON (Content-Type: application/json)')),
    ),
  );
}
