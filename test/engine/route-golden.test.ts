/**
 * Golden partition streams: the router with the worker's real parts — decode (shipped mapping),
 * password_spray's per-IP edge, captured sessions (session_hijack's baseline, RecentLogins) — over
 * a fixed input (the bench's telemetry, a password spray with a late victim, session uses from
 * another device, a malformed entry), routed in small steps. Every partition entry (its id, its
 * items: order keys, refs, events, attachments) must equal what the implementation before the
 * router's CPU work wrote (test/engine/golden/routed.json; RECORD_GOLDEN=1 records it again).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ROUTER_RESOURCE, Router } from '../../src/engine/router.js';
import { decodeRouted } from '../../src/engine/routed.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import { ipSprayEnricher } from '../../src/ingest/ip-spray.js';
import { Keys } from '../../src/keys.js';
import { createSessionStore } from '../../src/sessions/service.js';
import { sessionUseEnricher } from '../../src/sessions/captured.js';
import { generate } from '../../bench/data.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const GOLDEN = join(import.meta.dirname, 'golden/routed.json');
const ROOT = join(import.meta.dirname, '../..');
const END = Date.UTC(2026, 0, 15, 12);
const NOW = END + 60_000;
const PARTITIONS = 8;
const redis = redisClient();
const prefix = testPrefix('route-golden');
afterAll(async () => {
  await cleanup(redis, prefix);
  await redis.quit();
});

/** The input: [login stream?, fields] in XADD order (explicit ids follow this order). */
function input(): Array<[boolean, Record<string, string>]> {
  const out: Array<[boolean, Record<string, string>]> = generate({ events: 240, users: 30, seed: 11, end: END, spanMs: 3 * 3_600_000 }).map((e) => [
    e.login,
    { event: e.json },
  ]);
  const t = END - 3_600_000;
  const login = (user: string, outcome: string, at: number, extra: Record<string, unknown> = {}): [boolean, Record<string, string>] => [
    true,
    { event: JSON.stringify({ type: 'login', id: `sp-${user}-${at}`, user, time: at, outcome, ip: '203.0.113.9', geo: { country: 'NL' }, ...extra }) },
  ];
  // A success routed first whose event time follows the failures routed after it (a late victim),
  // then one IP failing for 12 users, then a success.
  out.splice(40, 0, login('early@x', 'success', t + 50_000, { session: { id: 'sess-early' }, device: { id: 'd-e' }, network: { asn: 'AS64500' } }));
  for (let i = 0; i < 12; i++) out.splice(80 + i * 5, 0, login(`spr${i}@x`, 'failure', t + i * 1000));
  out.splice(160, 0, login('victim@x', 'Success', t + 20_000, { session: { id: 'sess-v' }, device: { id: 'd-v' } }));
  // Session uses: from another device and country (captured from an earlier batch), and in the login's own batch.
  out.splice(200, 0, [
    false,
    {
      event: JSON.stringify({
        type: 'access',
        user: 'early@x',
        time: t + 30_000,
        app: 'mail',
        session: { id: 'sess-early' },
        device: { id: 'd-other' },
        geo: { country: 'br' },
      }),
    },
  ]);
  out.splice(161, 0, [
    false,
    { event: JSON.stringify({ type: 'access', user: 'victim@x', time: t + 21_000, app: 'crm', session: { id: 'sess-v' }, network: { asn: 64501 } }) },
  ]);
  out.splice(220, 0, [false, { event: '{"type":' }]);
  return out;
}

it('routes the fixed input into the recorded partition entries', async () => {
  const config = loadConfig(join(ROOT, 'config/riskstream.yaml'));
  const keys = new Keys(prefix, PARTITIONS);
  const login = `${prefix}:login`;
  const activity = `${prefix}:activity`;
  const p = redis.pipeline();
  input().forEach(([isLogin, fields], i) => p.xadd(isLogin ? login : activity, `${1_000 + i}-0`, ...Object.entries(fields).flat()));
  await p.exec();
  await redis.set(keys.engineLease(ROUTER_RESOURCE), 'tok');
  const spray = ipSprayEnricher(redis, keys, { behaviors: () => config.behaviors, allowedLateness: () => config.raw.state.allowed_lateness, now: () => NOW });
  const uses = sessionUseEnricher(
    createSessionStore(redis, keys, () => config.raw.sessions),
    () => ({ sessionsEnabled: true, behaviors: config.behaviors }),
  );
  const dead: string[] = [];
  const router = new Router(
    redis,
    keys,
    { sources: [login, activity], group: 'g', consumer: 'riskstream-router', count: 9 },
    {
      decode: (raw, now) => decodeEntry(raw, { mapping: config.raw.mapping }, now),
      enrich: async (events) => {
        await spray(events);
        await uses(events);
      },
      deadLetter: async (bad) => void dead.push(...bad.map((b) => `${b.raw.id} ${b.reason}`)),
    },
  );
  await router.ensureGroups();
  router.start('tok');
  for (let i = 0, idle = 0; idle < 2; i++) {
    const r = await router.step();
    if (r === 'fenced' || i > 1000) throw new Error('routing did not settle');
    idle = r.read === 0 && r.buffered === 0 && r.routed === 0 ? idle + 1 : 0;
  }
  const got: Record<string, unknown> = { dead };
  for (let part = 0; part < PARTITIONS; part++) {
    const rows = await redis.xrangeBuffer(keys.partitionIn(part), '-', '+');
    // The entries' items as JSON would hold them (undefined fields dropped), the prefix neutral.
    got[`p${part}`] = rows.map(([id, f]) => [id.toString(), JSON.parse(JSON.stringify(decodeRouted(f[1]!)).split(prefix).join('P')) as unknown]);
  }
  if (process.env.RECORD_GOLDEN === '1' || !existsSync(GOLDEN))
    writeFileSync(
      GOLDEN,
      `{\n${Object.entries(got)
        .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
        .join(',\n')}\n}\n`,
    );
  expect(got).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  // The fixture exercises what it claims to: attachments of both kinds, a late victim, a dead letter.
  const text = JSON.stringify(got);
  expect(['"x":{"f":[[', '"c":{"session_id":"sess-early"', '"c":{"session_id":"sess-v"', 'password_spray.victim'].filter((s) => !text.includes(s))).toEqual([]);
  expect(dead.length).toBe(1);
});
