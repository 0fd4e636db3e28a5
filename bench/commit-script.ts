/**
 * Diagnostic (not part of `npm run bench`): Redis's own cost of the hot scripts, from INFO
 * commandstats around pipelines of calls on a scratch prefix — the engine's commit script (50
 * partitions' commits: empty, + 3 users' states, + 2 session logins), the router's fenced read and
 * the password-spray IP script. Prints, per case, the median over `--rounds` of the script's µs per
 * call (Redis's time inside EVALSHA) and the commands it ran per call. Use a Redis of its own
 * (REDIS_URL) so that nothing else runs commands meanwhile.
 *   REDIS_URL=redis://127.0.0.1:6391 node --import tsx bench/commit-script.ts [--rounds n]
 */
import { parseArgs } from 'node:util';
import { Keys } from '../src/keys.js';
import { emptyDelta, indexSig, queueCommit, type PartitionDelta } from '../src/engine/commit.js';
import { emptyState } from '../src/risk/state.js';
import { pipeline } from '../src/redis/client.js';
import { defineScripts, queueScript } from '../src/redis/scripts.js';
import { SessionStore } from '../src/sessions/store.js';
import type { SessionIdentity } from '../src/sessions/identity.js';
import { round, withPrefix } from './lib.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(args.rounds);
const PARTS = 50;
const TOKEN = 'bench#1';

type Stats = Map<string, { calls: number; usec: number }>;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await withPrefix('commit-script', async (prefix, redis) => {
  defineScripts(redis);
  const keys = new Keys(prefix, 64);
  const stats = async (): Promise<Stats> => {
    const out: Stats = new Map();
    const cpu = String(await redis.info('cpu'));
    const sec = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
    // Redis's main thread CPU time, as a pseudo-command (µs).
    out.set('cpu', { calls: 0, usec: (sec('used_cpu_user_main_thread') + sec('used_cpu_sys_main_thread')) * 1e6 });
    for (const line of String(await redis.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
      if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
    }
    return out;
  };
  // Per partition, 20 users of it (logins cycle through them: their session sets grow).
  const users = new Map<number, string[]>();
  for (let i = 0; [...users.values()].filter((l) => l.length >= 20).length < PARTS; i++) {
    const p = keys.partitionOf(`u${i}`);
    if (p >= PARTS) continue;
    const l = users.get(p) ?? [];
    if (l.length < 20) l.push(`u${i}`);
    users.set(p, l);
  }
  const now = Date.now();
  const store = new SessionStore(redis, keys, { maxPerUser: 100, now: () => Date.now() });
  for (let p = 0; p < PARTS; p++) await redis.set(keys.engineLease(`p${p}`), TOKEN);
  await redis.set(keys.routerFence('bench-in'), TOKEN);
  const stream = `${prefix}:{bench-in}`;
  await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  let lastDelivered = '0-0';
  let commitSeq = 0;
  let login = 0;

  const commits = async (kind: 'empty' | 'states' | 'logins'): Promise<void> => {
    const pipe = pipeline(redis);
    const writes = pipeline(redis);
    const ms = now + ++commitSeq;
    for (let p = 0; p < PARTS; p++) writes.xadd(keys.partitionIn(p), `${ms}-0`, 'd', 'x');
    await writes.exec();
    const finish: Array<(r: unknown) => Promise<unknown>> = [];
    for (let p = 0; p < PARTS; p++) {
      const d: PartitionDelta = emptyDelta(p, { ms, seq: 0 });
      const us = users.get(p)!;
      if (kind !== 'empty') for (let j = 0; j < 3; j++) d.states.set(us[j]!, emptyState(us[j]!));
      const sessions: SessionIdentity[] = [];
      if (kind === 'logins') {
        for (let j = 0; j < 2; j++) {
          const user = us[login++ % us.length]!;
          const t = now + login;
          sessions.push({
            session_id: `s-${login}`,
            user,
            claims: { email: user },
            device: { id: `d-${user}`, posture: { os: 'macOS' } },
            ip: '192.0.2.1',
            login_at: t,
            expires_at: t + 3_600_000,
          });
        }
      }
      const put = sessions.length ? store.prepare(sessions) : undefined;
      queueCommit(pipe, keys, d, { token: TOKEN, id: `c${commitSeq++}` }, { eventsMaxlen: 1000, now }, (u) => indexSig(emptyState(u)), put?.ops);
      finish.push(async (r) => (put ? put.finish((r as unknown[])[1] as unknown[], (r as unknown[])[2] as string[][]) : undefined));
    }
    const res = (await pipe.exec()) ?? [];
    await Promise.all(res.map(([, r], i) => finish[i]!(r)));
  };
  const reads = async (): Promise<void> => {
    const w = pipeline(redis);
    for (let i = 0; i < 10 * PARTS; i++) w.xadd(stream, '*', 'e', String(i));
    await w.exec();
    const pipe = pipeline(redis);
    // 50 reads of 10 entries each, the last-delivered id of each known from the one before (as the router does).
    for (let i = 0; i < PARTS; i++)
      queueScript(pipe, 'routerRead', keys.routerFence('bench-in'), stream, TOKEN, 'g', 'c', '10', '>', i === 0 ? lastDelivered : '');
    const res = (await pipe.exec()) ?? [];
    const last = res[res.length - 1]![1] as [unknown, unknown, string];
    lastDelivered = String(last[2]);
  };
  const ips = async (): Promise<void> => {
    const pipe = pipeline(redis);
    const t = Date.now();
    for (let c = 0; c < PARTS; c++) {
      const keyArgs: string[] = [];
      const packed: string[][] = [];
      for (let i = 0; i < 20; i++) {
        const ip = `198.51.${c}.${i}`;
        keyArgs.push(keys.ipLogins(ip), keys.ipSuccesses(ip));
        const kind = (c + i) % 10 === 0 ? 'f' : 's';
        packed.push([
          String(t - 3_600_000),
          '1000',
          '3600000',
          String(t - 3_600_000),
          String(t),
          '0',
          String(t),
          JSON.stringify([kind, `u${i}`, `e-${t}-${c}-${i}`]),
        ]);
      }
      queueScript(pipe, 'ipLogins', keyArgs.length, ...keyArgs, JSON.stringify(packed));
    }
    await pipe.exec();
  };

  const cases: Array<[string, () => Promise<void>]> = [
    ['commit: empty', () => commits('empty')],
    ['commit: + 3 users’ states', () => commits('states')],
    ['commit: + 3 states, 2 session logins', () => commits('logins')],
    ['router read (10 entries)', reads],
    ['ip logins (20 IPs, 2 of them failures)', ips],
  ];
  const results = new Map<string, Array<{ us: number; cpu: number; cmds: number }>>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of cases) {
      const before = await stats();
      await run();
      const after = await stats();
      let script = { calls: 0, usec: 0 };
      let cmds = 0;
      let cpu = 0;
      for (const [cmd, a] of after) {
        const b = before.get(cmd) ?? { calls: 0, usec: 0 };
        if (cmd === 'evalsha') script = { calls: a.calls - b.calls, usec: a.usec - b.usec };
        else if (cmd === 'cpu') cpu = a.usec - b.usec;
        else if (cmd !== 'info' && cmd !== 'xadd' && cmd !== 'exec' && cmd !== 'multi') cmds += a.calls - b.calls;
      }
      // The setup XADDs run outside the script: counted only when inside (the commit's event XADDs: none here).
      if (r > 0)
        (results.get(name) ?? results.set(name, []).get(name)!).push({ us: script.usec / script.calls, cpu: cpu / script.calls, cmds: cmds / script.calls });
    }
  }
  console.log(`# scripts' Redis time — median of ${ROUNDS - 1} rounds (the first is a warm-up)`);
  for (const [name, xs] of results) {
    console.log(
      `  ${name.padEnd(42)} ${String(round(median(xs.map((x) => x.us)), 1)).padStart(7)} µs/call (Redis CPU ${String(round(median(xs.map((x) => x.cpu)), 1)).padStart(6)})  ${String(round(median(xs.map((x) => x.cmds)), 2)).padStart(6)} commands/call`,
    );
  }
});
