import { Packr } from 'msgpackr';
import type { UserState } from './state.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** A user's state as stored (MessagePack: ≈ 60 % of its JSON, and faster to write and read). */
export function encodeState(state: UserState): Buffer {
  return packr.pack(state);
}

/** A stored state; null when absent or unreadable. */
export function decodeState(data: Buffer | null | undefined): UserState | null {
  if (!data || data.length === 0) return null;
  try {
    const v = packr.unpack(data) as UserState;
    return v && typeof v === 'object' && typeof v.user === 'string' ? v : null;
  } catch {
    return null;
  }
}
