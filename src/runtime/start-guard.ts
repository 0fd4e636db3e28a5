import { RiskstreamError } from '../errors.js';
import type { RedisClient } from '../redis/client.js';
import { PING_TIMEOUT_MS, pingProblem } from './readiness.js';

/** How long a start waits on a Redis that stopped answering before it fails, as for one not up at all. */
export const START_REDIS_WAIT_MS = 10_000;

/** Told by the start when its connections are ready: from then on Redis is watched. */
export interface StartWatch {
  connected(main: RedisClient, all: readonly RedisClient[]): void;
}

/**
 * Runs a worker's start, bounded while Redis does not answer. Commands wait while Redis is away,
 * so a Redis that stalls or goes after the connections were ready (before the worker listens)
 * would hold the start for good: no HTTP port, a SIGTERM held for "once started". Once
 * {@link StartWatch.connected}, the main connection is PINGed every second (one at a time); when
 * none answered for `waitMs`, the connections are dropped (their queued commands fail) and the
 * start fails with `UNAVAILABLE`. A slow start on a Redis that answers is never cut short.
 */
export async function guardStart<T>(run: (watch: StartWatch) => Promise<T>, waitMs = START_REDIS_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const watch: StartWatch = {
    connected(main, all) {
      let answered = Date.now();
      let probing = false;
      timer = setInterval(() => {
        if (probing) return;
        probing = true;
        void pingProblem(main, PING_TIMEOUT_MS).then((why) => {
          probing = false;
          if (why === undefined) return void (answered = Date.now());
          if (Date.now() - answered < waitMs || timer === undefined) return;
          clearInterval(timer);
          timer = undefined;
          for (const c of all) c.disconnect();
          fail(new RiskstreamError('UNAVAILABLE', `redis stopped answering while the worker started (${why}; nothing answered for ${waitMs} ms)`));
        });
      }, 1000);
    },
  };
  try {
    return await Promise.race([run(watch), failed]);
  } finally {
    clearInterval(timer);
    timer = undefined;
  }
}
