/** A receiver as the worker sends to it: the file's entry with its defaults resolved. */
import type { SigningAlg } from '../types.js';
import type { ReceiverConfig, ReceiverEvent } from './receiver-schema.js';

/** A receiver with endpoint, audience, events and authorization resolved. */
export interface ResolvedReceiver extends ReceiverConfig {
  endpoint: string;
  audience: string;
  events: ReceiverEvent[];
  alg: SigningAlg;
  /** Resolved Authorization header value (secret: never log). */
  authorizationValue?: string;
  /** For a self-registered SSF stream: its `stream_id` (the verification SET's subject, SSF §8.1.4.1). */
  streamId?: string;
  /** Registered through the SSF stream API, not by an admin: its endpoint is checked at send time and its sends are limited. */
  selfRegistered?: boolean;
  /** A self-registered SSF stream that is paused (not `enabled`): its SETs wait for the resume. */
  paused?: boolean;
  /**
   * A self-registered SSF stream enabled (or paused) again after a disable: SETs queued before this
   * time (ms) are not sent, whatever their status now (a disabled stream holds nothing, SSF 1.0 §8.1.2).
   */
  queuedAfter?: number;
  /** A self-registered SSF stream's removed subjects (user ids, SSF 1.0 §8.1.3.3): their SETs are not sent, even those already queued. */
  removedSubjects?: readonly string[];
  /**
   * A self-registered SSF stream whose creating token is no longer configured (the receiver's
   * credential was revoked): nothing is sent to it, even SETs already queued, until the token is back.
   */
  ownerRevoked?: boolean;
  /** With `ownerRevoked`: the stream's owner id (src/ssf/stream-owner.ts), to ask whether another worker still has its token. */
  owner?: string;
}
