import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { pipeline, type RedisClient } from '../redis/client.js';
import type { StreamNames } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import { isLogin } from '../login.js';
import { toEpochMs } from './event-rules.js';

/** Options of {@link replayFile}. */
export interface ReplayOptions {
  /** Every event to this stream (default: logins → login stream, the rest → activity). */
  stream?: string;
  /** Events per second (default: as fast as Redis takes them). */
  rate?: number;
  /** Shift every timestamp so the newest event is `now` (demo data stays current). */
  rebase?: number;
  chunk?: number;
  onProgress?(sent: number, total: number): void;
}

/** A time as the worker reads it (ISO-8601, an offset-less one UTC; epoch ms or s), or undefined. */
function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  const t = toEpochMs(v, 'time');
  return typeof t === 'number' ? t : undefined;
}

function shift(obj: Record<string, unknown>, by: number): void {
  const t = timeOf(obj.time);
  if (t !== undefined) obj.time = typeof obj.time === 'number' ? t + by : new Date(t + by).toISOString();
  const s = obj.session as Record<string, unknown> | undefined;
  const e = s ? timeOf(s.expires_at) : undefined;
  if (s && e !== undefined) s.expires_at = new Date(e + by).toISOString();
}

/** The file's non-blank lines: gzip (by its magic bytes) decompressed, a leading UTF-8 BOM dropped. */
async function readLines(file: string): Promise<string[]> {
  const head = Buffer.alloc(2);
  const fd = await open(file, 'r');
  try {
    await fd.read(head, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const raw = createReadStream(file);
  const input = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => input.destroy(err));
  const lines: string[] = [];
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    const l = lines.length === 0 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
    if (l.trim()) lines.push(l);
  }
  return lines;
}

/**
 * Appends the events of an NDJSON file (gzip too) to the input streams (field `event` = the JSON line;
 * lines that are not JSON are appended as-is, so the worker dead-letters them with a reason).
 */
export async function replayFile(
  redis: RedisClient,
  streams: StreamNames,
  file: string,
  opts: ReplayOptions = {},
): Promise<{ sent: number; byStream: Record<string, number> }> {
  let lines: string[];
  try {
    lines = await readLines(file);
  } catch (e) {
    throw new RiskstreamError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`);
  }
  let by = 0;
  if (opts.rebase !== undefined) {
    let newest = -Infinity;
    for (const l of lines) {
      try {
        newest = Math.max(newest, timeOf((JSON.parse(l) as Record<string, unknown>).time) ?? -Infinity);
      } catch {
        /* not JSON: left as is */
      }
    }
    if (Number.isFinite(newest)) by = opts.rebase - newest;
  }
  const chunk = opts.chunk ?? (opts.rate ? Math.max(1, Math.min(500, Math.ceil(opts.rate / 20))) : 500);
  const byStream: Record<string, number> = {};
  const started = Date.now();
  let sent = 0;
  for (let i = 0; i < lines.length; i += chunk) {
    const p = pipeline(redis);
    for (const line of lines.slice(i, i + chunk)) {
      let payload = line;
      let type: unknown;
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        type = obj.type;
        if (by) {
          shift(obj, by);
          payload = JSON.stringify(obj);
        }
      } catch {
        /* appended raw; the worker dead-letters it */
      }
      const stream = opts.stream ?? (isLogin({ type }) ? streams.login : streams.activity);
      byStream[stream] = (byStream[stream] ?? 0) + 1;
      p.xadd(stream, '*', 'event', payload);
    }
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    sent = Math.min(lines.length, i + chunk);
    opts.onProgress?.(sent, lines.length);
    if (opts.rate) {
      const due = started + (sent / opts.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  return { sent, byStream };
}
