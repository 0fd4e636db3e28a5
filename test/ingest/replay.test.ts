import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type StreamNames } from '../../src/config/load.js';
import { replayFile } from '../../src/ingest/replay.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('replay-file');
const dir = mkdtempSync(join(tmpdir(), 'riskstream-replay-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis:\n  prefix: ${prefix}\n`);
const streams: StreamNames = loadConfig(dir, {}).streams;
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const login = JSON.stringify({ type: 'login', user: 'a@example.com', time: '2026-11-23T08:00:00Z' });
const dlp = JSON.stringify({ type: 'dlp', user: 'a@example.com', time: '2026-11-23T08:01:00Z', severity: 'high' });

describe('replayFile', () => {
  it('reads a gzip file and drops a leading UTF-8 BOM (CRLF lines too): each line is its event, in its stream', async () => {
    const file = join(dir, 'events.ndjson.gz');
    writeFileSync(file, gzipSync(Buffer.from(`\ufeff${login}\r\n\r\n${dlp}\r\n`, 'utf8')));
    const r = await replayFile(redis, streams, file);
    expect(r.sent).toBe(2);
    expect((await redis.xrange(streams.login, '-', '+')).map(([, f]) => f)).toEqual([['event', login]]);
    expect((await redis.xrange(streams.activity, '-', '+')).map(([, f]) => f)).toEqual([['event', dlp]]);
  });
});
