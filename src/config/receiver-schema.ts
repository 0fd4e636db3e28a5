import { z } from 'zod';
import { positiveMs } from '../duration.js';
import { REASON_LANGUAGES, SIGNING_ALGS } from '../types.js';
import { EVENT_NAME_OF_URI } from '../event-types.js';

/** The schemas of `receivers` entries and `signing.keys` entries in riskstream.yaml (see schema.ts). */

const subjectFormat = z.enum(['email', 'iss_sub', 'opaque']);

/** Event kinds a receiver can get. */
export const RECEIVER_EVENTS = ['risk-level-change', 'session-revoked', 'verification'] as const;
export type ReceiverEvent = (typeof RECEIVER_EVENTS)[number];

export const receiverSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'letters, digits, _ . - only' }),
  kind: z.enum(['okta', 'ssf']),
  /** Push endpoint. For kind okta, derived from `org_url` when omitted. */
  endpoint: z.url().optional(),
  /** Okta org URL (https://{org}.okta.com): gives endpoint and audience for kind okta. */
  org_url: z.url().optional(),
  /** The SET `aud`; empty would match no receiver (leave it out for the default). */
  audience: z.string().min(1, { message: 'must not be empty (leave it out for the default audience)' }).optional(),
  subject_format: subjectFormat.default('email'),
  /** For subject_format iss_sub: the `iss` of the user's subject (defaults to the receiver audience). */
  subject_issuer: z.string().min(1, { message: 'must not be empty (leave it out for the receiver audience)' }).optional(),
  /** Default every kind; an empty list would send the receiver nothing. An event-type URI names its event (CONTRACT §4's spelling). */
  events: z
    .array(z.preprocess((v) => (typeof v === 'string' && Object.hasOwn(EVENT_NAME_OF_URI, v) ? EVENT_NAME_OF_URI[v] : v), z.enum(RECEIVER_EVENTS)))
    .min(1, { message: 'must not be empty (the receiver would get nothing): leave it out for every event, or set enabled: false' })
    .optional(),
  /** Authorization header value; `${ENV_VAR}` is expanded from the environment. Empty would send none: leave it out for that. */
  authorization: z.string().min(1, { message: 'must not be empty (leave it out to send no authorization)' }).optional(),
  /** Name of an environment variable holding the Authorization header value (an empty name would send none). */
  authorization_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must name an environment variable (letters, digits, _)' })
    .optional(),
  timeout: positiveMs.prefault('10s'),
  /** Max SETs per second to this receiver (BullMQ limiter). */
  rate_limit: z.number().int().positive().optional(),
  /** Max sends in flight to this receiver at once, per worker (default: half of `delivery.concurrency`, at least 1). */
  concurrency: z.number().int().positive().optional(),
  alg: z.enum(SIGNING_ALGS).optional(),
  enabled: z.boolean().default(true),
  /**
   * Languages of the SET's `reason_admin` / `reason_user` besides English (which is always there):
   * a translated summary from riskstream's catalogue (see src/ssf/reason-text.ts).
   */
  reason_languages: z.array(z.enum(REASON_LANGUAGES, { error: `reason_languages: one of ${REASON_LANGUAGES.join(', ')}` })).optional(),
});
export type ReceiverConfigInput = z.input<typeof receiverSchema>;

/** A signing key's `kid`: an empty one is left out of the JWKS (src/ssf/jwks.ts), so its SETs would match no published key. */
export const signingKid = z.string().min(1, { message: 'must not be empty (leave it out for the key thumbprint)' });

export const signingKeySchema = z.strictObject({
  key_file: z.string(),
  alg: z.enum(SIGNING_ALGS).default('ES256'),
  kid: signingKid.optional(),
});

export type ReceiverConfig = z.output<typeof receiverSchema>;
