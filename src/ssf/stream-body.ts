/**
 * The body of a stream create / update / replace (SSF 1.0 §8.1.1): its Receiver-Supplied
 * properties validated into stream fields, within `ssf.limits`. Pure.
 */
import { RiskstreamError } from '../errors.js';
import { isHeaderValue } from '../net/header-value.js';
import { noCredentials } from '../config/url-rules.js';
import { PUSH_METHOD, type SsfStream, type StreamLimits } from './streams.js';

function validUrl(u: unknown, what: string, maxLength: number): string {
  if (typeof u !== 'string') throw new RiskstreamError('BAD_REQUEST', `${what} is required`);
  if (u.length > maxLength) throw new RiskstreamError('PAYLOAD_TOO_LARGE', `${what} is longer than ${maxLength} characters`);
  // Whitespace and control characters: the URL parser drops tabs and newlines (and trims), so the
  // stored and shown URL (CR/LF and NUL included) would not be the one pushed to. No valid URL holds
  // them. Nor a lone surrogate (JSON's "\ud800"), which the parser turns into U+FFFD (%EF%BF%BD).
  if (/[^\x21-\x7e\u{a0}-\u{d7ff}\u{e000}-\u{10ffff}]/u.test(u))
    throw new RiskstreamError('BAD_REQUEST', `${what} must not contain whitespace, control characters or lone surrogates`);
  if (!URL.canParse(u) || !['https:', 'http:'].includes(new URL(u).protocol)) throw new RiskstreamError('BAD_REQUEST', `${what} must be an http(s) URL`);
  // Credentials in the URL would be shown back in the stream's configuration: they belong in
  // delivery.authorization_header, which is never shown.
  if (!noCredentials(u)) throw new RiskstreamError('BAD_REQUEST', `${what} must not hold credentials (user:password@); use delivery.authorization_header`);
  return u;
}

/** A string field within `max` characters (413 beyond). */
export function boundedString(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string') throw new RiskstreamError('BAD_REQUEST', `${what} must be a string`);
  if (v.length > max) throw new RiskstreamError('PAYLOAD_TOO_LARGE', `${what} is longer than ${max} characters`);
  return v;
}

/** A JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Validates the Receiver-Supplied properties of a create/update body (SSF §8.1.1) into stream
 * fields, within `limits`. Transmitter-Supplied ones (`aud`, …) are checked by transmitter-supplied.ts.
 * A `null` `description` or `delivery.authorization_header` is present with no value: it removes the stored one.
 */
export function parseStreamBody(body: unknown, partial: boolean, limits: StreamLimits): Partial<SsfStream> {
  if (!isObject(body)) throw new RiskstreamError('BAD_REQUEST', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  const out: Partial<SsfStream> = {};
  if (b.delivery !== undefined || !partial) {
    // Not an object (a URL alone, null): refused, never a PATCH answered 200 that changed nothing.
    if (b.delivery !== undefined && !isObject(b.delivery)) throw new RiskstreamError('BAD_REQUEST', 'delivery must be a JSON object');
    // SSF 1.0 §8.1.1.1: without `delivery` the transmitter "MUST assume" poll, which riskstream does
    // not offer (it "MAY respond with 400"). A whole configuration (create, PUT) names its method;
    // a PATCH that leaves it out keeps the stored one (push).
    if (b.delivery === undefined)
      throw new RiskstreamError('BAD_REQUEST', `delivery is required: without it SSF assumes poll, and riskstream delivers by push only (${PUSH_METHOD})`);
    const d = b.delivery as Record<string, unknown>;
    if (d.method === undefined && !partial) throw new RiskstreamError('BAD_REQUEST', `delivery.method is required (${PUSH_METHOD}: push)`);
    if (d.method !== undefined && d.method !== PUSH_METHOD) throw new RiskstreamError('BAD_REQUEST', `delivery.method must be ${PUSH_METHOD} (push)`);
    // Push's endpoint_url is Receiver-Supplied: a create or replace must bring it, a PATCH that
    // leaves it out keeps the stored one (SSF 1.0 §8.1.1.3: missing properties are not changed).
    if (d.endpoint_url !== undefined || !partial) out.endpoint_url = validUrl(d.endpoint_url, 'delivery.endpoint_url', limits.endpoint_url_length);
    // SSF 1.0 §8.1.1.3: a Receiver-Supplied property present is updated; `null` removes the optional ones.
    if (d.authorization_header === null) out.authorization_header = undefined;
    else if (d.authorization_header !== undefined) {
      const h = boundedString(d.authorization_header, 'delivery.authorization_header', limits.authorization_header_length);
      // Never a value HTTP cannot carry (CR/LF would inject headers; node refuses it at send time).
      if (!isHeaderValue(h)) throw new RiskstreamError('BAD_REQUEST', 'delivery.authorization_header must be printable ASCII (no control characters)');
      out.authorization_header = h;
    }
  }
  if (b.events_requested !== undefined) {
    if (!Array.isArray(b.events_requested) || b.events_requested.some((e) => typeof e !== 'string')) {
      throw new RiskstreamError('BAD_REQUEST', 'events_requested must be an array of event type URIs');
    }
    if (b.events_requested.length > limits.events_requested)
      throw new RiskstreamError('PAYLOAD_TOO_LARGE', `events_requested has more than ${limits.events_requested} entries`);
    out.events_requested = (b.events_requested as string[]).map((e) => boundedString(e, 'events_requested entry', limits.event_uri_length));
  }
  if (b.description === null) out.description = undefined;
  else if (b.description !== undefined) out.description = boundedString(b.description, 'description', limits.description_length);
  return out;
}
