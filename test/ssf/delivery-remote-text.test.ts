import { describe, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { deliveryHarness } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-remote-text');
const receivers = new Map<string, ResolvedReceiver>();
const d = deliveryHarness(prefix, receivers);

describe("a receiver's 400 error text in the audit log", () => {
  it('line/paragraph separators and bidirectional marks are replaced, as control characters are', async () => {
    const rx = await startReceiver(() => ({
      status: 400,
      body: {
        err: 'invalid_request\u2028level=error msg=forged',
        description: 'a\u2028b\u2029c\u200ed\u200fe\u061cf\u202eg\u001b[2Jh',
      },
    }));
    d.closers.push(rx.close);
    const r = testReceiver('hostile-text', rx.url);
    receivers.set(r.name, r);
    await enqueueLevelChange(d.q, change('dave@example.com', 1, 'low', 'high'), [r]);
    const [failed] = await waitFor(async () => {
      const e = (await d.audit.list({ action: 'set.failed', count: 100 })).entries.filter((x) => x.details.receiver === r.name);
      return e.length ? e : undefined;
    });
    expect(failed!.details).toMatchObject({
      outcome: 'rejected',
      status: 400,
      err: 'invalid_request level=error msg=forged',
      description: 'a b c d e f g [2Jh',
    });
  });
});
