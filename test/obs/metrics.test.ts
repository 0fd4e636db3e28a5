import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/obs/metrics.js';

describe('Metrics.pruneReceivers', () => {
  it("drops the delivery series of receivers gone (a deleted SSF stream's), keeps the live ones", async () => {
    const m = new Metrics(false);
    m.deliveries.inc({ receiver: 'okta', outcome: 'delivered' });
    m.deliveries.inc({ receiver: 'ssf-stream-a1', outcome: 'delivered' });
    m.deliveries.inc({ receiver: 'ssf-stream-a1', outcome: 'retry' });
    m.deliveries.inc({ receiver: 'ssf-stream-b2', outcome: 'delivered' });
    expect(await m.pruneReceivers(new Set(['okta', 'ssf-stream-b2']))).toBe(2);
    const { body } = await m.render();
    expect(body).toContain('receiver="okta"');
    expect(body).toContain('receiver="ssf-stream-b2"');
    expect(body).not.toContain('ssf-stream-a1');
    expect(await m.pruneReceivers(new Set(['okta', 'ssf-stream-b2']))).toBe(0);
  });
});
