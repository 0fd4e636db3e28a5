/**
 * The router thread routes with the configuration the worker runs — found by a review of hot
 * reload: a router thread that died was restarted from the files on disk, so a behaviors.yaml being
 * edited (or one a reload had refused) either kept the thread from starting at all — no routing,
 * every second a new thread failing — or went live in routing without a reload.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/obs/logger.js';
import { RouterHost } from '../../src/runtime/router-host.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';

const prefix = testPrefix('rthread-config');
const redis = redisClient();
let cfg: TestConfig | undefined;
let host: RouterHost | undefined;
afterAll(async () => {
  await host?.close();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const noHooks = { onReport: () => undefined, onError: () => undefined, onDeadLettered: () => undefined, onFenced: () => undefined };

describe('router thread configuration', () => {
  it('a thread restarted after the files were broken (reload refused or never sent) starts with the running configuration', async () => {
    cfg = await writeTestConfig(prefix);
    const running = loadConfig(cfg.dir);
    const h = new RouterHost(createLogger('silent'), noHooks, () => running);
    host = h;
    await h.ready;
    // An admin's edit in progress: not valid, never reloaded.
    writeFileSync(join(cfg.dir, 'behaviors.yaml'), 'impossible_travel:\n  risk_level: severe\n');
    const thread = (h as unknown as { worker: Worker }).worker;
    await thread.terminate();
    // The host restarts it (after a second); the new thread becomes ready and stays up.
    await waitFor(() => (h as unknown as { worker: Worker }).worker !== thread, { what: 'the thread restarted' });
    await expect(h.ready).resolves.toBeUndefined();
  }, 30_000);
});
