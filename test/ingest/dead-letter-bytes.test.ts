/**
 * A stream entry whose bytes are not UTF-8 (0xff 0xfe, CESU-8 surrogates, overlong forms, NUL) is
 * dead-lettered with its original bytes — field names and values — not with the U+FFFD its UTF-8
 * reading holds; scrubbed fields stay scrubbed; an entry gone from its stream keeps the text read.
 */
import { afterAll, expect, it } from 'vitest';
import { writeDeadLetters } from '../../src/ingest/dead-letter.js';
import type { RawEntry } from '../../src/types.js';
import { testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('deadletter-bytes');
afterAll(cleanup);

const b = (...x: number[]): Buffer => Buffer.from(x);

/** The entry as the router reads it: every name and value decoded as UTF-8 text. */
function asRead(stream: string, id: string, flat: Buffer[]): RawEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!.toString('utf8')] = flat[i + 1]!.toString('utf8');
  return { stream, id, fields, deliveries: 1 };
}

async function deadLetterOf(dl: string): Promise<Array<[string, Buffer]>> {
  const rows = await redis.xrangeBuffer(dl, '-', '+');
  expect(rows).toHaveLength(1);
  const flat = rows[0]![1];
  const out: Array<[string, Buffer]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!.toString('latin1'), flat[i + 1]!]);
  return out;
}

it('keeps the original bytes of names and values that are not UTF-8; scrubbed ones stay scrubbed', async () => {
  const stream = `${prefix}:in`;
  const dl = `${prefix}:dl`;
  const flat = [
    Buffer.from('user'),
    b(0x61, 0xff, 0xfe),
    b(0xff, 0xfe, 0x41),
    Buffer.from('x'),
    Buffer.from('city'),
    b(0xed, 0xa0, 0x80), // a lone surrogate in CESU-8
    Buffer.from('slash'),
    b(0xc0, 0xaf), // overlong '/'
    Buffer.from('nul'),
    b(0x00, 0xff),
    Buffer.from('password'),
    b(0x73, 0xff),
    Buffer.from('type'),
    Buffer.from('dlp'),
  ];
  const id = (await redis.xadd(stream, '*', ...(flat as unknown as string[])))!;
  await writeDeadLetters(redis, dl, [{ raw: asRead(stream, id, flat), reason: 'user: not valid UTF-8' }], { once: true });
  const got = await deadLetterOf(dl);
  const orig = got.filter(([k]) => k.startsWith('orig.'));
  const expected = new Map<string, Buffer>();
  for (let i = 0; i < flat.length; i += 2) expected.set(`orig.${flat[i]!.toString('latin1')}`, flat[i + 1]!);
  expected.set('orig.password', Buffer.from('[redacted]'));
  expect(orig.map(([k]) => k).sort()).toEqual([...expected.keys()].sort());
  for (const [k, v] of orig) expect(v.equals(expected.get(k)!), `${k}: ${v.toString('hex')}`).toBe(true);
  expect(got.find(([k]) => k === 'source_id')![1].toString()).toBe(id);
});

it('an entry no longer in its stream keeps the fields as read', async () => {
  const stream = `${prefix}:gone`;
  const dl = `${prefix}:dl-gone`;
  const flat = [Buffer.from('user'), b(0x61, 0xff)];
  const id = (await redis.xadd(stream, '*', ...(flat as unknown as string[])))!;
  await redis.xdel(stream, id);
  await writeDeadLetters(redis, dl, [{ raw: asRead(stream, id, flat), reason: 'user: not valid UTF-8' }], { once: true });
  const got = await deadLetterOf(dl);
  expect(got.find(([k]) => k === 'orig.user')![1].toString('utf8')).toBe('a\ufffd');
});
