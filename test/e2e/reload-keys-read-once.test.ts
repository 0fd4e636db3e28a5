/**
 * A reload reads its signing keys once: the keys it checked (readable, no kid naming another
 * published key) are the keys it applies. Found by a black-box review: the SET side read the key
 * files a second time once the rest of the reload had applied — a key file rewritten meanwhile was
 * applied unchecked, and one that could no longer be read left the reload half applied (tokens and
 * behaviors in force, the keys not, no `config.reloaded`). Here the new key is read through a FIFO
 * written once, as a secret handed over by a pipe: a second read waits for good.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { inProcessWorker } from '../helpers/worker.js';
import { generateKeyFiles } from '../../src/ssf/keys.js';

const h = inProcessWorker('reload-keys-read-once');

it('a reload to a key read through a pipe applies, signing with that key and publishing it', async () => {
  const worker = await h.start({});
  const dir = worker.config().dir;
  const jwks = async (): Promise<string[]> =>
    ((await (await fetch(`${worker.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  const [oldKid] = await jwks();
  const { key } = await generateKeyFiles('ES256', join(dir, 'keys'), 'next');
  execFileSync('mkfifo', [join(dir, 'keys/piped.pem')]);
  const file = join(dir, 'riskstream.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  writeFileSync(file, stringify({ ...cfg, signing: { ...cfg.signing, key_file: 'keys/piped.pem' } }));

  const reload = worker.reload();
  const piped = writeFile(join(dir, 'keys/piped.pem'), readFileSync(join(dir, 'keys/next.pem'))); // one writer, once
  await piped;
  const settled = await Promise.race([reload.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]);
  // Left waiting in a second read: written again, so that the worker can close.
  if (!settled) await writeFile(join(dir, 'keys/piped.pem'), readFileSync(join(dir, 'keys/next.pem')));
  expect(settled, 'the reload settled with the key written once').toBe(true);
  await reload;
  expect(await jwks()).toEqual([key.kid, oldKid]);
  await waitFor(async () => (await h.redis.xrange(h.keys.auditStream, '-', '+')).some(([, f]) => f.includes('config.reloaded')), { what: 'audited' });
}, 60_000);
