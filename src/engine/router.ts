import type { Keys } from '../keys.js';
import { MAX_SOURCES, sourceIdOf, type OrderKey } from '../partition.js';
import { scriptsOn } from '../redis/scripts.js';
import { waitReplicas, type RedisClient } from '../redis/client.js';
import { sendTogether } from '../redis/send-together.js';
import { createGroups, fenceStreams, readStreams, waitForEntries } from './router-read.js';
import { RiskstreamError } from '../errors.js';
import { pushTo } from './router-rows.js';
import { collectRead, type CollectedRead } from './router-collect.js';
import { writeRouted, type Held } from './route-write.js';
import { deadLetterStep, markSent } from './routed-tops.js';
import type { RouteReport, RouterOptions, RouterParts } from './router-types.js';

export type { RouteReport, RouterOptions, RouterParts } from './router-types.js';

/** The router's lease resource: one router reads every input stream (one merged order). */
export const ROUTER_RESOURCE = 'r:*';

/**
 * Routes unpartitioned input to per-partition streams in one merged order. Reads every input stream
 * with the consumer group (through a lease-fenced script), decodes once, and writes each partition's
 * events, in order-key order (source entry id, then source index), as one entry whose id is the
 * highest key it holds. Only events below the watermark — the lowest, over the streams, of the last
 * id read (or, for a stream read to its end, Redis's clock) — are routed, so the merged order never
 * depends on timing: the same input always yields the same partition streams. Writing is idempotent
 * (an id not above the stream's top was routed already), entries are acked only after their
 * partition entries exist, and a successor re-reads the pending entries in order.
 */
export class Router {
  private token: string | null = null;
  private readonly sources: string[];
  private cursors = new Map<string, string>();
  private lastRead = new Map<string, OrderKey>();
  private held = new Map<string, Held[]>();
  /** Per stream: the group's last-delivered id after this router's last read (a read lost in between is noticed). */
  private delivered = new Map<string, string>();
  /**
   * Acks of entries whose partition entries (or dead letters) exist, sent with the next read (one
   * round trip less per step) or by {@link flushAcks}. Kept across start() and put back when their
   * send fails: a dropped ack would have its entry re-read, routed again (found present, harmless)
   * or dead-lettered again (a duplicate).
   */
  private acks = new Map<string, string[]>();
  /** Bumped by start/stop: a step that began in an earlier session (lease lost, retaken) leaves this one's state alone. */
  private session = 0;
  private readonly scripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly opts: RouterOptions,
    private readonly parts: RouterParts,
  ) {
    this.sources = [...opts.sources, keys.controlStream];
    if (this.sources.length > MAX_SOURCES) throw new RiskstreamError('CONFIG_INVALID', `at most ${MAX_SOURCES - 1} input streams`);
    this.scripts = scriptsOn(redis);
  }

  /** Creates the consumer group on every source (and the stream with MKSTREAM). */
  async ensureGroups(): Promise<void> {
    await createGroups(this.redis, this.sources, this.opts.group);
  }

  /** Starts routing under lease `token`: re-reads the group's pending entries first, in order. */
  start(token: string): void {
    this.session++;
    this.token = token;
    this.cursors = new Map(this.sources.map((s) => [s, '0']));
    this.lastRead = new Map();
    this.held = new Map(this.sources.map((s) => [s, []]));
    this.delivered = new Map();
    // Acks queued are kept: their entries' effects exist, and an entry dead-lettered once must not be re-read and dead-lettered again.
    this.fenced = false;
  }

  /** Whether this session wrote its token to every source's fence (before its first read). */
  private fenced = false;

  /** Stops routing (lease lost or released); what was read and not routed stays pending. */
  stop(): void {
    this.session++;
    this.token = null;
  }

  get active(): boolean {
    return this.token !== null;
  }

  /** Waits (up to `ms`) for input after the last entry read of any source (see {@link waitForEntries}). */
  async waitForInput(waker: RedisClient, ms: number): Promise<void> {
    const ids = this.sources.map((s) => (this.lastRead.has(s) ? sourceIdOf(this.lastRead.get(s)!) : '$'));
    const top = await waitForEntries(waker, this.sources, ids, ms);
    // Entries of the current millisecond are held until the clock moves past it (the watermark):
    // wait for that here rather than read them, hold them and read once more (a second step, two
    // scripts, per arrival at low rates). Local and Redis clocks agree on one host; when they do
    // not, the watermark still decides and this costs at most 2 ms (a timer of 1 ms can end within
    // the same millisecond of Date.now(): libuv counts from its cached time).
    for (let i = 0; top !== undefined && Date.now() <= top && i < 2; i++) await new Promise((r) => setTimeout(r, 1));
  }

  /**
   * One step ahead: read and decode (while the previous step's writes are in flight), then start routing
   * what is below the watermark and acking it — written in step order, each step's writes after the
   * previous one's. 'fenced' once the lease moved. A step whose writes fail forgets what it read:
   * the next one re-reads the group's pending entries, in order (routing them again is idempotent),
   * as a successor would.
   */
  async stepAhead(): Promise<RouteReport | 'fenced'> {
    let r: Awaited<ReturnType<Router['readPhase']>>;
    try {
      r = await this.readPhase();
      await this.settle(); // the previous step's writes: they failed → this read is redone
    } catch (err) {
      if (this.token) this.start(this.token);
      throw err;
    }
    if (r === 'fenced') return 'fenced';
    const write = this.writePhase(r);
    this.writing = write;
    write.catch(() => undefined); // reported by the next step's settle()
    return r.report;
  }

  /** One step, its writes done and its entries acked (see {@link stepAhead}). */
  async step(): Promise<RouteReport | 'fenced'> {
    const r = await this.stepAhead();
    await this.finishWrites(true);
    return r;
  }

  /**
   * Waits for the writes in flight (and, with `ack`, sends the acks queued): when they fail, the
   * next step re-reads the group's pending entries first, as after a failed {@link stepAhead}.
   */
  async finishWrites(ack = false): Promise<void> {
    try {
      await this.settle();
      if (ack) await this.flushAcks();
    } catch (err) {
      if (this.token) this.start(this.token);
      throw err;
    }
  }

  /** Sends the acks not yet sent with a read (see {@link acks}): before the router idles or ends. */
  async flushAcks(): Promise<void> {
    if (!this.acks.size) return;
    const acks = this.acks;
    this.acks = new Map();
    try {
      for (const [err] of await sendTogether(this.redis, (r) => [...acks].map(([stream, ids]) => r.xack(stream, this.opts.group, ...ids)))) if (err) throw err;
    } catch (err) {
      this.requeueAcks(acks); // XACK is idempotent: sent again later
      throw err;
    }
  }

  /** Puts acks that could not be sent back in the queue. */
  private requeueAcks(acks: ReadonlyMap<string, string[]>): void {
    for (const [stream, ids] of acks) for (const id of ids) pushTo(this.acks, stream, id);
  }

  /** Waits for the writes in flight; rethrows their failure (once). */
  async settle(): Promise<void> {
    const w = this.writing;
    this.writing = null;
    await w;
  }

  private writing: Promise<void> | null = null;
  private completed: RouteReport[] = [];

  /** Reports of the steps whose writes completed since the last call (progress, metrics). */
  takeCompleted(): RouteReport[] {
    return this.completed.splice(0);
  }

  private async readPhase(): Promise<CollectedRead | 'fenced'> {
    const token = this.token;
    if (!token) return 'fenced';
    const session = this.session;
    if (!this.fenced) {
      // From now on a router of an older lease epoch can read none of the sources.
      const newer = await fenceStreams(this.scripts, this.keys, this.sources, token);
      if (session !== this.session) return 'fenced';
      if (newer) {
        this.stop();
        this.parts.onFenced?.(newer);
        return 'fenced';
      }
      this.fenced = true;
    }
    const reading = this.sources.filter((s) => (this.held.get(s)?.length ?? 0) < 4 * this.opts.count);
    const acks = this.acks;
    this.acks = new Map();
    const res = await readStreams(
      this.redis,
      this.keys,
      reading,
      {
        token,
        group: this.opts.group,
        consumer: this.opts.consumer,
        count: this.opts.count,
        cursor: (s) => this.cursors.get(s)!,
        expected: (s) => this.delivered.get(s) ?? '',
      },
      acks,
    ).catch((err: unknown) => {
      this.requeueAcks(acks); // not known to be sent: again with the next read (XACK is idempotent)
      throw err;
    });
    // Restarted meanwhile (the lease lost and taken again): what this read delivered stays pending,
    // re-read by the new session in order.
    if (session !== this.session) return 'fenced';
    if (res === 'fenced') {
      this.stop();
      return 'fenced';
    }
    if (res === 'lost') {
      // A read whose reply was lost (resent after a dropped connection) delivered entries this
      // router never saw: re-read the pending entries first, in order. (Entries other streams
      // delivered in this read stay pending too, and are re-read with them.)
      this.start(token);
      this.fenced = true;
      return this.readPhase();
    }
    for (const [s, r] of res) this.delivered.set(s, r.lastDelivered);
    const st = { sources: this.sources, controlStream: this.keys.controlStream, cursors: this.cursors, lastRead: this.lastRead, held: this.held };
    return collectRead(st, res, reading, { count: this.opts.count, decode: this.parts.decode });
  }

  /** Routes and dead-letters one step's entries, then queues their acks (only after their partition entries exist). */
  private async writePhase(r: CollectedRead): Promise<void> {
    const { routable, bad, ackOnly } = r;
    const before = await markSent(this.redis, this.keys, routable);
    const w = await writeRouted(this.redis, this.keys, this.parts.enrich, routable, this.parts.handoff);
    r.report.partitions = w.partitions;
    r.report.present = w.present;
    if (w.dropped) r.report.derivedDropped = w.dropped;
    r.report.deadLettered = await deadLetterStep(this.redis, { routable, bad, present: w.presentRefs, before }, this.parts.deadLetter);
    if (this.opts.wait && (routable.length || r.report.deadLettered)) await waitReplicas(this.redis, this.opts.wait.replicas, this.opts.wait.timeoutMs);
    // Acked with the next read (or flushAcks), now that their partition entries exist.
    for (const [stream, ids] of ackOnly) for (const id of ids) pushTo(this.acks, stream, id);
    for (const h of routable) pushTo(this.acks, h.ref.stream, h.ref.id);
    for (const b of bad) pushTo(this.acks, b.raw.stream, b.raw.id);
    this.completed.push(r.report);
  }
}
