import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR, recentIso } from '../helpers/clock.js';

/**
 * The real-telemetry path end to end: a log shipper RPUSHes Okta System Log records (as
 * Logstash's redis output does) to a list; the list bridge moves them into a stream mapped with
 * the `okta` profile; the worker detects the impossible trip and a receiver gets the SET.
 */
const okta = JSON.parse(readFileSync(new URL('../ingest/fixtures/okta-session-start.json', import.meta.url), 'utf8')) as OktaRecord;
/** The fields of an Okta System Log record this test changes (the rest is passed through). */
interface OktaRecord {
  uuid: string;
  published: string;
  client: { ipAddress: string; geographicalContext: unknown };
}
const h = workerHarness('shipper-okta', (url) => ({
  streams: { block: '200ms', claim_idle: '2s', extra: [`${h.prefix}:okta`] },
  mapping: { streams: { [`${h.prefix}:okta`]: 'okta' } },
  bridge: { lists: { [`${h.prefix}:okta-list`]: `${h.prefix}:okta` }, interval: '100ms' },
  receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/e`, audience: 'https://rx' }],
}));

describe('Okta System Log through a Redis list', () => {
  it("London then Sydney in Okta's shape → HIGH, shared as a SET", async () => {
    const london = structuredClone(okta);
    const sydney = structuredClone(okta);
    sydney.uuid = 'dc9fd3c0-598c-11ef-8478-2b7584bf8d5b';
    // Recent event times: a trip of days ago would arrive already expired (no level, no SET).
    london.published = recentIso(0);
    sydney.published = recentIso(2 * HOUR);
    sydney.client.ipAddress = '1.128.0.1';
    sydney.client.geographicalContext = { city: 'Sydney', country: 'Australia', geolocation: { lat: -33.87, lon: 151.21 } };
    // Logstash's redis output (data_type => list) RPUSHes one JSON document per event.
    await h.redis.rpush(`${h.prefix}:okta-list`, JSON.stringify(london), JSON.stringify(sydney), 'not json at all');

    await waitFor(() => h.receiver.received.length >= 1, { what: 'a SET' });
    const set = h.receiver.received[0]!;
    expect(set.verified).toBe(true);
    expect(set.claims.sub_id).toEqual({ format: 'email', email: 'alice.ng@example.com' });
    expect(eventOf(set).body).toMatchObject({ current_level: 'HIGH', previous_level: 'LOW' });
    // The list is drained and the bad line is dead-lettered with a reason, not lost.
    expect(await h.redis.llen(`${h.prefix}:okta-list`)).toBe(0);
    const dead = await waitFor(async () => (await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+'))[0], { what: 'dead letter' });
    expect(dead[1].join(' ')).toMatch(/reason/);
    expect(dead[1].join(' ')).toMatch(/not json at all/);
  });
});
