import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

/**
 * Issue 13 row 6 / Must-have 5: four concurrent 5 MB bodies of tiny records must not stall the
 * worker — `/healthz` stays fast (a measured, generous bound) — and a body with more records than
 * the limit is refused while it is split, before its records are parsed. A real worker process on
 * loopback, real Redis.
 */
const prefix = testPrefix('ingest-spike');
const redis = redisClient();
let cfg: TestConfig;
let worker: WorkerProcess;

/** Generous: the issue measured 8.8 s; an idle worker answers in a few ms. */
const HEALTHZ_BOUND_MS = 1000;
const FIVE_MB = 5 * 1024 * 1024 - 1024;

beforeAll(async () => {
  // No back-pressure here: the four bodies (≈ 240 000 events) are all taken.
  cfg = await writeTestConfig(prefix, { streams: { block: '200ms', claim_idle: '2s', max_lag: 100_000_000 } });
  worker = await spawnWorker(cfg.dir);
}, 40_000);

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
}, 60_000);

/** NDJSON of tiny valid events, just under `bytes`. */
function tinyBody(bytes: number, tag: string): { body: Buffer; records: number } {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const line = `{"type":"access","user":"u${i % 5000}-${tag}@x.io","time":${Date.now()},"outcome":"allowed","app":"a"}\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return { body: Buffer.from(lines.join('')), records: lines.length };
}

/** Polls /healthz until `work` settles; returns the slowest answer (ms) and how many were made. */
async function healthzWhile<T>(work: Promise<T>): Promise<{ result: T; maxMs: number; probes: number }> {
  let done = false;
  const settled = work.finally(() => (done = true));
  let maxMs = 0;
  let probes = 0;
  while (!done) {
    const t = performance.now();
    const r = await fetch(`${worker.url}/healthz`);
    await r.text();
    expect(r.status).toBe(200);
    maxMs = Math.max(maxMs, performance.now() - t);
    probes++;
    await new Promise((res) => setTimeout(res, 20));
  }
  return { result: await settled, maxMs, probes };
}

const post = async (body: Buffer): Promise<{ status: number; json: { error?: string } }> => {
  const res = await fetch(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  return { status: res.status, json: (await res.json()) as { error?: string } };
};

async function rssMb(): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
  const m = /process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)/.exec(text);
  return m ? Math.round(Number(m[1]) / 2 ** 20) : NaN;
}

describe('ingest spike', () => {
  it(`four concurrent 5 MB bodies of tiny records: every one taken, /healthz under ${HEALTHZ_BOUND_MS} ms throughout`, async () => {
    const idle = await healthzWhile(new Promise((r) => setTimeout(r, 300)));
    const rssBefore = await rssMb();
    const bodies = ['a', 'b', 'c', 'd'].map((t) => tinyBody(FIVE_MB, t));
    const t0 = performance.now();
    const { result, maxMs, probes } = await healthzWhile(Promise.all(bodies.map((b) => post(b.body))));
    const elapsed = Math.round(performance.now() - t0);
    const rssAfter = await rssMb();
    console.log(
      `[ingest-spike] 4 × ${bodies[0]!.records} records (${(bodies[0]!.body.length / 2 ** 20).toFixed(1)} MB each): /healthz max ${Math.round(maxMs)} ms over ${probes} probes (idle max ${Math.round(idle.maxMs)} ms); bodies done in ${elapsed} ms; RSS ${rssBefore} → ${rssAfter} MB`,
    );
    for (const [i, r] of result.entries()) {
      expect(r.status, JSON.stringify(r.json).slice(0, 200)).toBe(202);
      expect(r.json).toMatchObject({ accepted: bodies[i]!.records, rejected: 0 });
    }
    expect(probes).toBeGreaterThan(3);
    expect(maxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 120_000);

  it('a 5 MB body holding more records than the limit: 413 payload_too_large at once, nothing appended', async () => {
    const before = await redis.xlen(`${prefix}:activity`);
    const body = Buffer.from('{}\n'.repeat(Math.floor(FIVE_MB / 3)));
    const t0 = performance.now();
    const { result, maxMs } = await healthzWhile(post(body));
    console.log(
      `[ingest-spike] ${Math.floor(FIVE_MB / 3)} records over the limit: answered in ${Math.round(performance.now() - t0)} ms, /healthz max ${Math.round(maxMs)} ms`,
    );
    expect(result.status).toBe(413);
    expect(result.json.error).toBe('payload_too_large');
    expect(await redis.xlen(`${prefix}:activity`)).toBe(before);
    expect(maxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 60_000);
});
