/**
 * Diagnostic (not part of `npm run bench`): the design's I/O floor (bench/io-floor.ts: read, route,
 * re-read, commit states and session identities, no logic) against the number of entries a step
 * reads per input stream. Small steps are what low latency needs (a step every few ms at a moderate
 * rate); this prints what they cost per event, client and Redis, beside the logic's cost
 * (bench/stages.ts), and the rate at which the two would fill both cores.
 *   node --import tsx bench/floor-steps.ts [--events 30000] [--counts 10,25,50,100,2000] [--logic-us 67]
 */
import { parseArgs } from 'node:util';
import { generate } from './data.js';
import { ioFloor } from './io-floor.js';
import { preload, round, withPrefix } from './lib.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '30000' },
    counts: { type: 'string', default: '10,25,50,100,2000' },
    'logic-us': { type: 'string', default: '67' },
  },
});
const N = Number(args.events);
const logic = Number(args['logic-us']);
for (const count of args.counts.split(',').map(Number)) {
  await withPrefix('floor', async (prefix, redis) => {
    await preload(redis, prefix, generate({ events: N, users: 10_000, seed: 7 }));
    const r = await ioFloor(redis, prefix, N, 1, { count, quiet: true });
    const node = (r.node_cpu_s_per_100k * 1e6) / 1e5;
    const red = (r.redis_cpu_s_per_100k * 1e6) / 1e5;
    console.log(
      JSON.stringify({
        bench: 'floor_steps',
        count_per_stream: count,
        node_us: round(node, 1),
        redis_us: round(red, 1),
        io_us: round(node + red, 1),
        // Both cores busy with the logic and this floor: events/s (no headroom for queueing).
        full_cores_per_s: round(2e6 / (logic + node + red)),
      }),
    );
  });
}
process.exit(0);
