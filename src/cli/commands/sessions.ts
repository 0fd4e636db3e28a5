import type { Command } from 'commander';
import { reasonParam } from '../../api/params.js';
import { knownSecrets } from '../../secrets/known-secrets.js';
import type { RedisClient } from '../../redis/client.js';
import { AuditLog } from '../../audit/audit-log.js';
import type { Config } from '../../config/load.js';
import { isRiskstreamError, RiskstreamError } from '../../errors.js';
import type { Keys } from '../../keys.js';
import type { SessionIdentity } from '../../sessions/identity.js';
import { DEFAULT_REVOKE_REASON, type RevocationSink } from '../../sessions/revoke.js';
import { createSessionService, createSessionStore } from '../../sessions/service.js';
import { setQueueSink } from '../../sessions/set-sink.js';
import { MAX_LIMIT } from '../../sessions/listing.js';
import { createSetQueue } from '../../ssf/queue.js';
import { createStreamService } from '../../ssf/stream-service-factory.js';
import { cliActor, DEFAULT_CONFIG, DEFAULT_PAGE, integerIn, nextPageCommand, openCli, table, print, userArg, type CommandModule } from '../common.js';
import { escapeControlsKeepLines } from '../terminal-text.js';

/** What a CLI revocation sink factory gets: the open CLI connection. */
export interface CliSinkContext {
  config: Config;
  redis: RedisClient;
  keys: Keys;
}

/** Builds the sink that queues session-revoked SETs; its optional `close` runs before exit. */
export type CliSinkFactory = (cli: CliSinkContext) => Promise<{ sink: RevocationSink; close?: () => Promise<void> }>;

/**
 * Default sink: the BullMQ `set-delivery` queue, to the receivers in the config file and to the
 * SSF streams receivers registered through the stream management API (held for paused ones),
 * exactly as a revocation through the worker's API.
 */
export const setQueueSinkFactory: CliSinkFactory = async (cli) => {
  const queue = createSetQueue(cli.redis, cli.keys, { writesMeta: false });
  const audit = new AuditLog(cli.redis, cli.config.streams.audit, cli.config.raw.streams.maxlen);
  const streams = createStreamService(cli.redis, cli.keys, queue, audit, () => cli.config);
  return { sink: setQueueSink(queue, () => cli.config.receivers, streams), close: () => queue.close() };
};

const iso = (ms: unknown): string => (typeof ms === 'number' ? new Date(ms).toISOString().replace('.000Z', 'Z') : '');

function place(s: SessionIdentity): string {
  const g = s.geo ?? {};
  return [g.city, g.country].filter((x) => typeof x === 'string' && x).join(', ');
}

function network(s: SessionIdentity): string {
  const n = s.network ?? {};
  return [n.via, n.colo, n.asn !== undefined ? `AS${String(n.asn)}` : undefined].filter((x) => x !== undefined && x !== '').join(' ');
}

function row(s: SessionIdentity): Record<string, unknown> {
  return {
    session: s.session_id,
    user: s.user,
    idp: s.idp,
    device: s.device?.id,
    ip: s.ip,
    location: place(s),
    network: network(s),
    login: iso(s.login_at),
    expires: iso(s.expires_at),
  };
}

function details(s: SessionIdentity): string {
  const rows: Array<Record<string, unknown>> = [
    { field: 'session', value: s.session_id },
    { field: 'user', value: s.user },
    { field: 'idp', value: s.idp },
    { field: 'login', value: iso(s.login_at) },
    { field: 'expires', value: iso(s.expires_at) },
    { field: 'ip', value: s.ip },
    { field: 'location', value: place(s) },
    { field: 'network', value: s.network },
    { field: 'device', value: s.device?.id },
    { field: 'event', value: s.event_id },
    // Cut to sessions.max_identity_bytes: these fields hold {truncated, bytes, sha256} markers.
    { field: 'truncated', value: s.truncated?.join(', ') },
  ];
  for (const [k, v] of Object.entries(s.device?.posture ?? {})) rows.push({ field: `posture.${k}`, value: v });
  for (const [k, v] of Object.entries(s.claims)) rows.push({ field: `claim.${k}`, value: v });
  for (const [k, v] of Object.entries(s.attributes ?? {})) rows.push({ field: `session.${k}`, value: v });
  return table(
    rows.filter((r) => r.value !== undefined && r.value !== ''),
    ['field', 'value'],
  );
}

/**
 * `riskstream sessions list|show|revoke`. Talks to Redis directly. Revocations go to the sink made
 * by `sinkFactory` (default: the SET delivery queue, so a running worker delivers the SETs).
 */
export function makeSessionsCommand(sinkFactory: CliSinkFactory = setQueueSinkFactory): CommandModule {
  return (program: Command) => {
    const cmd = program.command('sessions').description('Inspect and revoke active sessions (the identity each login was granted)');

    cmd
      .command('list')
      .description('Active sessions, newest first (all, or one user’s with --user)')
      .option('--user <user>', 'only this user’s sessions (and their devices)')
      .option('--limit <n>', 'sessions per page (all users)', integerIn(1, MAX_LIMIT), DEFAULT_PAGE)
      .option('--cursor <cursor>', 'continue after a previous page')
      .option('--json', 'print JSON')
      .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
      .action(async (o: { user?: string; limit: string; cursor?: string; json?: boolean; config: string }) => {
        // As the API's `?user=`: an empty --user is refused (never everyone's sessions), and a user's
        // sessions come in one page (a --cursor with it would be ignored).
        const user = o.user === undefined ? undefined : userArg(o.user);
        if (user !== undefined && o.cursor) {
          throw new RiskstreamError('BAD_REQUEST', "--cursor and --user cannot be combined: a user's sessions come in one page");
        }
        const cli = await openCli(o.config);
        try {
          // Writes nothing (no pruning on the way): it runs as a read-only Redis user (docs/operations.md).
          const store = createSessionStore(cli.redis, cli.keys, () => cli.config.raw.sessions, { readOnly: true });
          if (user !== undefined) {
            const [sessions, devices] = await Promise.all([store.listUser(user), store.devices(user)]);
            if (o.json) return void print(`${JSON.stringify({ user, sessions, devices }, null, 2)}\n`);
            print(table(sessions.map(row)));
            print(
              `\nDevices\n${table(devices.map((d) => ({ device: d.id, last_seen: iso(d.last_seen), ip: d.ip, session: d.session_id, posture: d.posture })))}`,
            );
            return;
          }
          const page = await store.listAll({ cursor: o.cursor, limit: Number(o.limit) });
          if (o.json) return void print(`${JSON.stringify(page, null, 2)}\n`);
          print(table(page.sessions.map(row)));
          if (page.next_cursor)
            print(
              `\nmore: ${nextPageCommand('sessions list', page.next_cursor, { limit: Number(o.limit) === DEFAULT_PAGE ? undefined : o.limit, config: o.config === DEFAULT_CONFIG ? undefined : o.config })}\n`,
            );
        } finally {
          await cli.close();
        }
      });

    cmd
      .command('show <id>')
      .description('The stored identity of one session: claims, device posture, network')
      .option('--json', 'print JSON')
      .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
      .action(async (id: string, o: { json?: boolean; config: string }) => {
        const cli = await openCli(o.config);
        try {
          const s = await createSessionStore(cli.redis, cli.keys, () => cli.config.raw.sessions, { readOnly: true }).get(id);
          if (!s) {
            process.stderr.write('riskstream: no active session with this id\n');
            process.exitCode = 1;
            return;
          }
          print(o.json ? `${JSON.stringify(s, null, 2)}\n` : details(s));
        } finally {
          await cli.close();
        }
      });

    cmd
      .command('revoke <id>')
      .description('Revoke a session: delete it, audit it and send a CAEP session-revoked SET')
      .requiredOption('--reason <text>', 'why (recorded in the audit log and the SET)')
      .option('-c, --config <path>', 'config directory or file', DEFAULT_CONFIG)
      .action(async (id: string, o: { reason: string; config: string }) => {
        const cli = await openCli(o.config);
        let made: Awaited<ReturnType<CliSinkFactory>> | undefined;
        const onRevoked: RevocationSink = async (r) => {
          made ??= await sinkFactory(cli); // only once something was revoked
          await made.sink(r);
        };
        try {
          const audit = new AuditLog(cli.redis, cli.config.streams.audit, cli.config.raw.streams.maxlen);
          const store = createSessionStore(cli.redis, cli.keys, () => cli.config.raw.sessions);
          const r = await createSessionService({ store, audit, onRevoked }).revoke(id, {
            actor: cliActor(),
            reason: reasonParam({ reason: o.reason }, undefined, DEFAULT_REVOKE_REASON, knownSecrets(cli.config)),
          });
          // Every copy revoked: users of different partitions who logged in with this id each had one.
          print(table(r.copies.map(({ change: c }) => ({ session: c.sessionId, user: c.user, reason: c.reason, revoked: iso(c.time), change: c.id }))));
        } catch (err) {
          if (!isRiskstreamError(err, 'NOT_FOUND')) throw err;
          process.stderr.write(`riskstream: ${escapeControlsKeepLines(err.message)}\n`);
          process.exitCode = 1;
        } finally {
          await made?.close?.();
          await cli.close();
        }
      });
  };
}

/** The registered `sessions` command (revocations queue session-revoked SETs). */
export const sessionsCommand: CommandModule = makeSessionsCommand();
