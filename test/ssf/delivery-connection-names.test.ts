import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { BULLMQ_CONNECTION_NAME } from '../../src/ssf/delivery-worker.js';
import { REDIS_URL, cleanup, testPrefix, waitFor } from '../helpers/redis.js';
import { startTestDelivery, type TestDelivery } from './delivery-harness.js';

const prefix = testPrefix('delivery-conn-names');
const keys = new Keys(prefix);
// The connection the worker is given, named as the worker's own `riskstream:main` is, but unique to this file.
const mainName = `${prefix}-main`;
let main: Redis;
let d: TestDelivery;

/** The names of every connection Redis holds (CLIENT LIST). */
async function names(): Promise<string[]> {
  const list = (await main.client('LIST')) as string;
  return list.split('\n').map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? '');
}

beforeAll(async () => {
  main = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, connectionName: mainName });
  d = await startTestDelivery(main, keys, prefix, new Map());
});

afterAll(async () => {
  await d.worker.close();
  await d.q.close();
  await cleanup(main, prefix);
  await main.quit();
});

describe('the delivery worker names its BullMQ connection (docs/operations.md: the connections in CLIENT LIST)', () => {
  it('BullMQ’s worker connection does not carry the name of the connection it was copied from (riskstream:main)', async () => {
    // BullMQ's blocking connection, named by BullMQ, appears once its worker runs.
    await waitFor(async () => (await names()).some((n) => n.startsWith(`{${prefix}}:bull:`)), { what: 'the BullMQ worker connected' });
    const all = await names();
    expect(all.filter((n) => n === mainName)).toHaveLength(1);
    expect(all).toContain(BULLMQ_CONNECTION_NAME);
  });
});
