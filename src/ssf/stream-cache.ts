/**
 * Each process's copy of the self-registered SSF streams, kept current without re-reading them
 * all: every write to a stream appends its id to a capped change stream
 * (`keys.ssfStreamChanges`), and {@link StreamCache.sync} reads only the entries after the last
 * one it saw, then only those streams. A full read happens on the first sync, and again only if
 * the entry this process saw last is gone from the change stream (trimmed past it, or lost with
 * the streams when Redis restarted empty), or the copy holds another number of streams than Redis
 * (streams lost without the change stream: a Redis Cluster master restarted empty).
 */
import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { SsfStream } from './stream-record.js';

/** Change entries kept (approximately); a process further behind than this reloads everything. */
export const STREAM_CHANGES_MAXLEN = 10_000;
const PAGE = 1_000;

/** Records that stream `id` changed (after the write itself, so a reader sees the new value). */
export async function markStreamChanged(redis: RedisClient, keys: Keys, id: string): Promise<void> {
  await redis.xadd(keys.ssfStreamChanges, 'MAXLEN', '~', STREAM_CHANGES_MAXLEN, '*', 'id', id);
}

const parse = (v: string): SsfStream => JSON.parse(v) as SsfStream;
const byCreation = (a: SsfStream, b: SsfStream): number => a.created_at - b.created_at;

/** The streams as last synced, by id. */
export class StreamCache {
  private readonly streams = new Map<string, SsfStream>();
  private sorted: SsfStream[] = [];
  /** Last change entry applied; undefined before the first (full) read. */
  private seen: string | undefined;
  /** Full reads so far (for tests and metrics). */
  fullReads = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** The streams as of the last sync, oldest first. */
  list(): SsfStream[] {
    return this.sorted;
  }

  /** The sync under way, and the one queued behind it. */
  private syncing: Promise<void> | undefined;
  private following: Promise<void> | undefined;

  /**
   * Applies the changes since the last sync (everything on the first); returns the streams. One
   * sync at a time (two at once could apply what they read out of order): a call during one waits
   * for the next, which starts after it, so what it gets was read after the call; every call during
   * a sync shares that next one (SETs to streams taken at once cost a read or two, not one each).
   */
  async sync(): Promise<SsfStream[]> {
    await this.once();
    return this.sorted;
  }

  private once(): Promise<void> {
    if (this.syncing) {
      return (this.following ??= this.syncing
        .catch(() => undefined)
        .then(() => {
          this.following = undefined;
          return this.once();
        }));
    }
    const run: Promise<void> = this.read().finally(() => {
      if (this.syncing === run) this.syncing = undefined;
    });
    this.syncing = run;
    return run;
  }

  private async read(): Promise<void> {
    if (this.seen === undefined) return this.reload();
    // The count before the changes are read: every stream deleted before it is gone from the copy after.
    const [count, lost] = await Promise.all([this.redis.hlen(this.keys.ssfStreams), this.lostPlace(this.seen)]);
    if (lost) return this.reload();
    await this.applyChanges();
    // More streams here than Redis holds: streams lost without their change stream (on a Redis
    // Cluster they are in different slots: the streams' master restarted empty, the other not).
    // A stream created or deleted during the read can differ too (read again, harmless), or hide
    // the loss until the next sync, whose count it no longer offsets.
    if (this.streams.size !== count) await this.reload();
  }

  private async reload(): Promise<void> {
    // The position first: a change written during the read is applied again next time (harmless).
    const last = (await this.redis.xrevrange(this.keys.ssfStreamChanges, '+', '-', 'COUNT', 1))[0];
    const all = await this.redis.hgetall(this.keys.ssfStreams);
    this.streams.clear();
    for (const [id, v] of Object.entries(all)) this.streams.set(id, parse(v));
    this.seen = last?.[0] ?? '0-0';
    this.fullReads++;
    this.resort();
  }

  /**
   * True when the entry last applied is gone: trimmed away (entries after it may be too), or the
   * change stream lost with the streams (Redis restarted empty: the streams this copy holds may be
   * gone, and a new change stream's ids may not follow the old ones).
   */
  private async lostPlace(seen: string): Promise<boolean> {
    if (seen === '0-0') return false;
    return (await this.redis.xrange(this.keys.ssfStreamChanges, seen, seen)).length === 0;
  }

  private async applyChanges(): Promise<void> {
    for (;;) {
      const entries = await this.redis.xrange(this.keys.ssfStreamChanges, `(${this.seen}`, '+', 'COUNT', PAGE);
      if (!entries.length) return;
      const ids = [...new Set(entries.map(([, f]) => f[1]!).filter(Boolean))];
      const values = ids.length ? await this.redis.hmget(this.keys.ssfStreams, ...ids) : [];
      ids.forEach((id, i) => {
        const v = values[i];
        if (v) this.streams.set(id, parse(v));
        else this.streams.delete(id);
      });
      this.seen = entries[entries.length - 1]![0];
      this.resort();
      if (entries.length < PAGE) return;
    }
  }

  private resort(): void {
    this.sorted = [...this.streams.values()].sort(byCreation);
  }
}
