/**
 * A user's risk events as the user page holds them, newest first: the newest page at first, older
 * pages from the API's cursor ("Show older"), and live the events newer than those held put on top.
 * Continuing from the cursor (never re-reading a larger window of the newest) reaches the oldest
 * events however fast new ones arrive, and shows each event once.
 */
import { api, qs, type RiskEvent } from '../../api.js';

/** Risk events read at first, and more each time older ones are asked for. */
export const EVENTS_PAGE = 200;
/** New events a live read takes at most before it starts again from the newest (what was shown is then dropped). */
const LIVE_MAX = 2000;

export interface EventsHeld {
  /** Newest first, each once. */
  events: RiskEvent[];
  /** Where the next older read starts (the API's next_cursor after the oldest event held); null: the oldest was reached. */
  older: string | null;
}

interface EventsPage {
  events: RiskEvent[];
  next_cursor: string | null;
}

const page = (base: string, cursor: string | null, limit: number): Promise<EventsPage> => api<EventsPage>(`${base}/events${qs({ limit, cursor })}`);

/** The newest EVENTS_PAGE events. */
export async function newestEvents(base: string): Promise<EventsHeld> {
  const p = await page(base, null, EVENTS_PAGE);
  return { events: p.events, older: p.next_cursor };
}

/**
 * The next EVENTS_PAGE events below those held, from the cursor the last read returned, added to
 * what is held when they arrive (`now()`: reads run side by side; a read that another one already
 * continued or replaced adds nothing).
 */
export async function withOlder(base: string, held: EventsHeld, now: () => EventsHeld): Promise<EventsHeld> {
  const cursor = held.older;
  if (cursor === null) return now();
  const p = await page(base, cursor, EVENTS_PAGE);
  const cur = now();
  if (cur.older !== cursor) return cur;
  const known = new Set(cur.events.map((e) => e.id));
  return { events: [...cur.events, ...p.events.filter((e) => !known.has(e.id))], older: p.next_cursor };
}

/**
 * The events newer than the newest held, put on top of what is held when they arrive (`now()`):
 * read from the newest down to the first one held. When more than LIVE_MAX came (or none held is
 * in the stream any more: trimmed), the newest page alone, as at first.
 */
export async function withNewer(base: string, held: EventsHeld, now: () => EventsHeld): Promise<EventsHeld> {
  if (!held.events.length) return newestEvents(base);
  const known = new Set(held.events.map((e) => e.id));
  const found: RiskEvent[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(base, cursor, EVENTS_PAGE);
    for (const e of p.events) {
      if (!known.has(e.id)) {
        found.push(e);
        continue;
      }
      const cur = now();
      const shown = new Set(cur.events.map((x) => x.id));
      return { events: [...found.filter((x) => !shown.has(x.id)), ...cur.events], older: cur.older };
    }
    cursor = p.next_cursor;
  } while (cursor !== null && found.length < LIVE_MAX);
  return newestEvents(base);
}

/** When riskstream processed `e` (ms): a hit's stream id, a change's time. */
export function processedMs(e: RiskEvent): number {
  const at = Date.parse(e.processed_at ?? '');
  if (Number.isFinite(at)) return at;
  if (e.kind === 'hit') return Number(e.id.split('-')[0]) || e.time;
  return e.time;
}
