import { afterAll, describe, expect, it } from 'vitest';
import { deadLetterFields, MAX_REASON, parseDeadLetter, writeDeadLetters } from '../../src/ingest/dead-letter.js';
import type { RawEntry } from '../../src/types.js';
import { readStream, testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('deadletter');
afterAll(cleanup);

const raw: RawEntry = {
  stream: 'riskstream:login',
  id: '1700000000000-3',
  fields: { event: '{"type":', reason: 'a field named reason', 'orig.x': 'y' },
  deliveries: 2,
};

describe('deadLetterFields', () => {
  it('carries reason, source, time and every original field under orig.', () => {
    const f = deadLetterFields(raw, 'event: invalid JSON', Date.UTC(2026, 10, 23, 8));
    expect(f).toEqual([
      'reason',
      'event: invalid JSON',
      'source_stream',
      'riskstream:login',
      'source_id',
      '1700000000000-3',
      'received_at',
      '2026-11-23T08:00:00.000Z',
      'deliveries',
      '2',
      'orig.event',
      '{"type":',
      'orig.reason',
      'a field named reason',
      'orig.orig.x',
      'y',
    ]);
  });

  it('caps very long reasons', () => {
    const f = deadLetterFields(raw, 'x'.repeat(5000));
    expect(f[1]!.length).toBe(MAX_REASON + 1);
  });
});

describe('writeDeadLetters (real Redis)', () => {
  it('appends entries that read back losslessly', async () => {
    const stream = `${prefix}:dead-letter`;
    const ids = await writeDeadLetters(
      redis,
      stream,
      [
        { raw, reason: 'event: invalid JSON' },
        { raw: { ...raw, id: '1700000000000-4', fields: { user: 'ünïcødé', type: '' } }, reason: 'type: must not be empty' },
      ],
      { maxlen: 1000 },
    );
    expect(ids).toHaveLength(2);
    const rows = await readStream(redis, stream);
    expect(rows.map((r) => r.id)).toEqual(ids);
    const first = parseDeadLetter(rows[0]!.fields);
    expect(first).toMatchObject({
      reason: 'event: invalid JSON',
      sourceStream: 'riskstream:login',
      sourceId: '1700000000000-3',
      deliveries: 2,
      fields: raw.fields,
    });
    expect(Date.parse(first.receivedAt)).toBeGreaterThan(0);
    expect(parseDeadLetter(rows[1]!.fields).fields).toEqual({ user: 'ünïcødé', type: '' });
  });

  it('writes nothing for an empty batch', async () => {
    expect(await writeDeadLetters(redis, `${prefix}:none`, [])).toEqual([]);
    expect(await redis.exists(`${prefix}:none`)).toBe(0);
  });

  it('throws INTERNAL when Redis refuses (wrong key type)', async () => {
    const key = `${prefix}:not-a-stream`;
    await redis.set(key, 'x');
    await expect(writeDeadLetters(redis, key, [{ raw, reason: 'r' }])).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
