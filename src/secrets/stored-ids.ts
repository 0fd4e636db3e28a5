import { looksLikeJwt, sha256Hex } from './secret-values.js';

/** Longest session, device or event id stored as given; a longer one is stored as its hash. */
const MAX_ID_LENGTH = 512;

/**
 * The id a session is stored under. A session id that is itself a token is never stored:
 * it becomes `jwt-sha256:<hex>` (so admins can still look it up by pasting the token).
 */
export function storedSessionId(raw: string): string {
  if (looksLikeJwt(raw)) return `jwt-sha256:${sha256Hex(raw)}`;
  return storedDeviceId(raw);
}

/**
 * The id a device is registered under (a field of the user's device registry): a device id
 * longer than 512 characters becomes `sha256:<hex>`, as a long session id does; the identity
 * itself keeps the device as the event gave it.
 */
export function storedDeviceId(raw: string): string {
  return raw.length > MAX_ID_LENGTH ? `sha256:${sha256Hex(raw)}` : raw;
}

/**
 * An event's `id` as it is read (after its tokens are fingerprinted): one longer than 512
 * characters becomes `sha256:<hex>`, as a long device id does — the id is kept with every hit it
 * makes (64 per behavior in the user's state, the risk events), and dedupes the event delivered
 * again, which the hash does as well.
 */
export const storedEventId: (id: string) => string = storedDeviceId;
