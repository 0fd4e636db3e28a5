/**
 * SET delivery: level-change jobs are queued (as the outbox relay queues them) for M users, one
 * algorithm after the other, and the worker and its delivery worker (shipped defaults: concurrency 64)
 * checks ordering, takes the send lock, signs (ES256 or RS256, jose), POSTs to a local counting
 * receiver and records the delivery and its audit entry. SETs/s = receipts / (last − first
 * receipt) per algorithm. A sample is verified against the worker's JWKS.
 */
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.js';
import { Keys } from '../src/keys.js';
import { createSetQueue, enqueueLevelChange } from '../src/ssf/queue.js';
import type { LevelChange } from '../src/types.js';
import { CountingReceiver, WorkerChild, profileFlags, report, round, workerFlags, writeBenchConfig } from './lib.js';

export interface SetDeliveryResult {
  bench: 'set_delivery';
  sets_per_alg: number;
  es256_per_s: number;
  rs256_per_s: number;
  verified_sample: number;
}

function change(user: string, at: number): LevelChange {
  return {
    id: `00000000-0000-5000-a000-${user.length.toString().padStart(12, '0')}`,
    user,
    version: 1,
    previous: 'low',
    current: 'high',
    behaviors: ['impossible_travel'],
    reason: 'Impossible travel: London, GB → Sydney, AU (16,994 km in 2.0 h, 8,497 km/h)',
    initiatingEntity: 'system',
    time: at,
  };
}

export async function setDelivery(
  redis: Redis,
  prefix: string,
  m: number,
  opts: { profileDir?: string } = {},
): Promise<SetDeliveryResult & { window: [number, number] }> {
  const receiver = new CountingReceiver(false);
  await receiver.listen();
  const cfg = await writeBenchConfig(
    prefix,
    {
      receivers: [
        { name: 'es', kind: 'ssf', endpoint: `${receiver.url}/es`, audience: 'https://receiver.bench', events: ['risk-level-change'], alg: 'ES256' },
        { name: 'rs', kind: 'ssf', endpoint: `${receiver.url}/rs`, audience: 'https://receiver.bench', events: ['risk-level-change'], alg: 'RS256' },
      ],
    },
    { rsa: true },
  );
  const receivers = loadConfig(cfg.dir).receivers;
  const q = createSetQueue(redis, new Keys(prefix));
  let w: WorkerChild | undefined;
  try {
    // One algorithm at a time, so each rate is the worker's alone: ES256 jobs are queued before
    // the worker starts, RS256 jobs once every ES256 SET has arrived.
    const enqueue = async (r: (typeof receivers)[number]): Promise<void> => {
      const now = Date.now();
      for (let i = 0; i < m; i += 250) {
        const chunk = Array.from({ length: Math.min(250, m - i) }, (_, k) => change(`set-${r.name}-${i + k}@bench.example`, now));
        await Promise.all(chunk.map((c) => enqueueLevelChange(q, c, [r])));
      }
    };
    const [esReceiver, rsReceiver] = [receivers.find((r) => r.name === 'es')!, receivers.find((r) => r.name === 'rs')!];
    await enqueue(esReceiver);
    w = await WorkerChild.start(cfg.dir, { execArgv: opts.profileDir ? profileFlags(opts.profileDir) : workerFlags() });
    await receiver.waitCount(m, 300_000);
    await enqueue(rsReceiver);
    await receiver.waitCount(2 * m, 300_000);
    const rate = (path: string): number => {
      const at = receiver.receipts.filter((x) => x.path === path).map((x) => x.at);
      return round((at.length - 1) / ((Math.max(...at) - Math.min(...at)) / 1000));
    };
    const verified = await receiver.verify(`${w.url}/.well-known/jwks.json`, 2);
    const r: SetDeliveryResult = { bench: 'set_delivery', sets_per_alg: m, es256_per_s: rate('/es'), rs256_per_s: rate('/rs'), verified_sample: verified };
    report(r, [
      ['SETs per algorithm', r.sets_per_alg],
      ['ES256 SETs/s', r.es256_per_s, 'target ≥ 1000'],
      ['RS256 SETs/s', r.rs256_per_s],
      ['sample verified against JWKS', r.verified_sample],
    ]);
    const es = receiver.receipts.filter((x) => x.path === '/es');
    return { ...r, window: [es[0]!.hr, es[es.length - 1]!.hr] };
  } finally {
    await w?.stop();
    await q.close();
    await receiver.close();
    cfg.remove();
  }
}
