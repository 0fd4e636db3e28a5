import { afterAll, describe, expect, it } from 'vitest';
import { deadLetterFields, MAX_ORIG_FIELD, MAX_REASON, parseDeadLetter, writeDeadLetters } from '../../src/ingest/dead-letter.js';
import type { RawEntry } from '../../src/types.js';
import { deadLetterChunkMarker, deadLetterSeen } from '../../src/stream-markers.js';
import { slotOf as keySlot } from '../../src/redis/client.js';
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

  it('does not keep a field over 64 KiB (its length under truncated; a 6 MB field takes no time); the others are kept, scrubbed', () => {
    const big = `{"password":"hunter2","session":{"claims":{"ssn":"123-45-6789"}},"pad":"${'ab.'.repeat(2_000_000)}"}`;
    const t0 = performance.now();
    const f = deadLetterFields(
      { ...raw, fields: { event: big, user: 'a@example.com', note: '{"secret":{"value":"v"}}' } },
      'event: larger than 1048576 characters',
      0,
      ['session.claims.ssn'],
    );
    const m = new Map(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]])));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(m.get('truncated')).toBe(`event=${big.length}`);
    expect(m.get('orig.event')).toBe('[not kept: longer than 65536 characters]');
    expect(m.get('orig.user')).toBe('a@example.com');
    expect(m.get('orig.note')).toBe('{"secret":"[redacted]"}');
    expect(big.length).toBeGreaterThan(MAX_ORIG_FIELD);
  });

  it('with a larger maxField (an HTTP record, which no stream keeps) a field over 64 KiB is kept whole, scrubbed', () => {
    const big = JSON.stringify({ password: 'hunter2', pad: 'x'.repeat(200_000) });
    const f = deadLetterFields({ ...raw, fields: { event: big } }, 'user: required', 0, [], 1024 * 1024);
    const m = new Map(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]])));
    expect(m.has('truncated')).toBe(false);
    expect(m.get('orig.event')).toBe(JSON.stringify({ password: '[redacted]', pad: 'x'.repeat(200_000) }));
  });

  it('a name the entry gave more than once: every value is kept, in the same name, scrubbed alike', () => {
    const raw: RawEntry = {
      stream: 'riskstream:login',
      id: '1-0',
      fields: { type: 'login', user: 'bob@example.com', password: 'hunter2' },
      repeated: [
        ['user', 'alice@example.com'],
        ['password', 'swordfish'],
      ],
      deliveries: 1,
    };
    const f = deadLetterFields(raw, 'field "user": given more than once in the entry', 0);
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < f.length; i += 2) if (f[i]!.startsWith('orig.')) pairs.push([f[i]!, f[i + 1]!]);
    expect(pairs).toEqual([
      ['orig.type', 'login'],
      ['orig.user', 'bob@example.com'],
      ['orig.password', '[redacted]'],
      ['orig.user', 'alice@example.com'],
      ['orig.password', '[redacted]'],
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

  it('once: an entry dead-lettered already (a crash before its ack or commit) is not appended again; other entries are', async () => {
    const stream = `${prefix}:dl-once`;
    const other: RawEntry = { ...raw, id: '1700000000000-4' };
    try {
      const first = await writeDeadLetters(redis, stream, [{ raw, reason: 'event: invalid JSON' }], { once: true });
      const again = await writeDeadLetters(
        redis,
        stream,
        [
          { raw, reason: 'event: invalid JSON' },
          { raw: other, reason: 'event: invalid JSON' },
        ],
        { once: true, maxlen: 1000 },
      );
      expect(first[0]).toMatch(/^\d+-\d+$/);
      expect(again[0]).toBe('');
      expect(again[1]).toMatch(/^\d+-\d+$/);
      const rows = await readStream(redis, stream);
      expect(rows.map((r) => parseDeadLetter(r.fields).sourceId)).toEqual([raw.id, other.id]);
      // The marker shares the stream's slot and expires.
      const marker = deadLetterSeen(stream, raw.stream, raw.id)!;
      expect(await redis.pttl(marker)).toBeGreaterThan(0);
      expect(keySlot(marker)).toBe(keySlot(stream));
    } finally {
      await redis.del(deadLetterSeen(stream, raw.stream, raw.id)!, deadLetterSeen(stream, other.stream, other.id)!);
    }
  });

  it('once: a failed write leaves no marker (the retry writes it); thousands of fields are kept up to 1000, the rest counted', async () => {
    const stream = `${prefix}:dl-once-2`;
    const many: RawEntry = { stream: 'riskstream:activity', id: '1700000000000-9', fields: {}, deliveries: 1 };
    for (let i = 0; i < 5000; i++) many.fields[`f${i}`] = 'x';
    const marker = deadLetterSeen(stream, many.stream, many.id)!;
    try {
      await redis.set(stream, 'not a stream');
      await expect(writeDeadLetters(redis, stream, [{ raw: many, reason: 'user: required' }], { once: true })).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(await redis.exists(marker)).toBe(0);
      await redis.del(stream);
      const [id] = await writeDeadLetters(redis, stream, [{ raw: many, reason: 'user: required' }], { once: true });
      expect(id).toMatch(/^\d+-\d+$/);
      const [row] = await readStream(redis, stream);
      expect(Object.keys(row!.fields).filter((k) => k.startsWith('orig.'))).toHaveLength(1000);
      expect(row!.fields.omitted_fields).toBe('4000');
    } finally {
      await redis.del(marker, stream);
    }
  });

  it('a dead-letter stream named with braces but no hash tag gets no marker (its slot cannot be shared by name)', () => {
    expect(deadLetterSeen('rs:dl}x', 's', '1-0')).toBeUndefined();
    expect(deadLetterSeen('rs:{}dl', 's', '1-0')).toBeUndefined();
    expect(deadLetterSeen('{rs}:dl', 's', '1-0')).toBe('{rs}:dl:seen:s/1-0');
    expect(deadLetterSeen('rs:dl', 's', '1-0')).toBe('{rs:dl}:seen:s/1-0');
    expect(deadLetterChunkMarker('rs:{}dl', 'c')).toBeUndefined();
    expect(deadLetterChunkMarker('rs:dl', 'c')).toBe('{rs:dl}:ingest-chunk:c');
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

it('keeps a field named __proto__ (and constructor) like any other', () => {
  const fields = JSON.parse('{"__proto__":"p","constructor":"c","user":"u"}') as Record<string, string>;
  const f = deadLetterFields({ stream: 's', id: '1-0', fields, deliveries: 1 }, 'time: required', 0);
  const orig: Array<[string, string]> = [];
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i]!.startsWith('orig.')) orig.push([f[i]!, f[i + 1]!]);
  expect(orig).toEqual([
    ['orig.__proto__', 'p'],
    ['orig.constructor', 'c'],
    ['orig.user', 'u'],
  ]);
});
