/**
 * Deleting an SSF stream removes its field from every user's delivery records
 * (`<prefix>:u:{<user>}:delivered` / `…:enqueued`): they used to keep one field per stream ever
 * deleted, for good.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { criticalDetection, inProcessWorker } from '../helpers/worker.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { waitFor } from '../helpers/redis.js';
import { streamReceiverName } from '../../src/ssf/streams.js';

const w = inProcessWorker('stream-delete-records');
const token = 'ssf-delete-records-0123456789abcdef';
let rx: TestReceiver | undefined;
afterAll(async () => {
  await rx?.close();
});

describe('a deleted stream', () => {
  it("leaves no field in the users' delivery records", async () => {
    rx = await startReceiver();
    const worker = await w.start({ http: { ssf_tokens: [token] }, ssf: { allowed_endpoints: ['127.0.0.1'] } });
    const ssf = apiClient(() => worker.url, token);
    const created = await ssf('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${rx.url}/gone` }, events_requested: [CAEP_RISK] });
    expect(created.status).toBe(201);
    const kept = await ssf('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${rx.url}/kept` }, events_requested: [CAEP_RISK] });
    const gone = streamReceiverName(created.json.stream_id as string);
    const stays = streamReceiverName(kept.json.stream_id as string);
    const users = ['del-a@example.com', 'del-b@example.com', 'del-c@example.com'];
    for (const u of users) await w.redis.xadd(`${w.prefix}:activity`, '*', 'event', criticalDetection(u));
    await waitFor(
      async () => {
        for (const u of users) if ((await w.redis.hget(w.keys.userDelivered(u), gone)) === null) return false;
        return true;
      },
      { timeout: 20_000, what: 'SETs delivered to the stream' },
    );

    expect((await ssf('DELETE', `/ssf/streams?stream_id=${created.json.stream_id as string}`)).status).toBe(204);
    await waitFor(
      async () => {
        for (const u of users) {
          if ((await w.redis.hexists(w.keys.userDelivered(u), gone)) || (await w.redis.hexists(w.keys.userEnqueued(u), gone))) return false;
        }
        return true;
      },
      { timeout: 10_000, what: "the deleted stream's fields removed" },
    );
    // Another stream's and the user's other records stay.
    for (const u of users) expect(await w.redis.hget(w.keys.userEnqueued(u), stays)).not.toBeNull();
  }, 40_000);
});
