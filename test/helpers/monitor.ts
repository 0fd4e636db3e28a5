import { connect } from 'node:net';
import { REDIS_URL } from './redis.js';

/** A running MONITOR: every command Redis runs, from any client, until stopped. */
export interface Monitor {
  stop(): Promise<void>;
}

/** Unescapes one quoted MONITOR argument (Redis's sdscatrepr: \" \\ \n \r \t \a \b \xHH). */
function unrepr(s: string): string {
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };
  return s.replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (simple[e] ?? e)));
}

/**
 * Starts MONITOR on a raw connection of its own and calls `onCommand` with each command's
 * arguments (the name first, as sent) and source (`ip:port`, or `lua` for a script's commands).
 * Resolves once Redis confirmed it (every command after that is seen). Unlike ioredis's
 * `monitor()`, nothing is lost or misread when other clients' commands arrive in the same read as
 * the confirmation.
 */
export async function startMonitor(onCommand: (args: string[], source: string) => void): Promise<Monitor> {
  const url = new URL(REDIS_URL);
  const socket = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
  let rest = '';
  let confirmed!: () => void;
  const ready = new Promise<void>((r) => (confirmed = r));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') confirmed();
      const m = /^\+\d+\.\d+ \[\d+ (\S+)\] (.*)$/.exec(line);
      if (!m) continue;
      const args = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => Buffer.from(unrepr(a[1]!), 'latin1').toString('utf8'));
      onCommand(args, m[1]!);
    }
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('MONITOR\r\n');
  await ready;
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        socket.destroy();
      }),
  };
}
