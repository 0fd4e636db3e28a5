import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './client.js';
import { pipeline } from './client.js';

/**
 * Commands queued over several pipelines of at most `size` commands, sent together. Same round
 * trip as one pipeline, but each is written as a string of tens of KB rather than one of a whole
 * batch (~1 MB): large-object allocations on every batch otherwise drive old-generation GC.
 * Results come back in queueing order.
 */
export class ChunkedPipeline {
  private readonly full: ChainableCommander[] = [];
  private current: ChainableCommander;
  private count = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly size = 100,
  ) {
    this.current = pipeline(redis);
  }

  /** The pipeline to queue the next command on. */
  next(): ChainableCommander {
    if (this.count === this.size) {
      this.full.push(this.current);
      this.current = pipeline(this.redis);
      this.count = 0;
    }
    this.count++;
    return this.current;
  }

  /** Executes every pipeline; `[error, result]` per command, in queueing order. */
  async exec(): Promise<Array<[Error | null, unknown]>> {
    const all = [...this.full, this.current];
    return (await Promise.all(all.map((p) => p.exec()))).flatMap((r) => r ?? []);
  }
}
