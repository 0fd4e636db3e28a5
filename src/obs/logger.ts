import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The structured JSON logger. Known secret-bearing paths are redacted as a second line of
 * defence; code must never log secrets in the first place.
 */
export function createLogger(level: string = process.env.RISKSTREAM_LOG_LEVEL || 'info', dest?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'riskstream' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          'req.headers.authorization',
          'token',
          '*.token',
          'privateKey',
          '*.privateKey',
          'key.d',
          '*.d',
        ],
        censor: '[redacted]',
      },
      serializers: { err: errWithoutArgs },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest ?? pino.destination({ dest: 2, sync: false }),
  );
}

/**
 * pino's error serializer, without the arguments of a failed Redis command (ioredis puts the
 * command on its errors: a routed entry's events, a session's identity, a token — and on a
 * refused `AUTH`, the Redis password) wherever they sit: on the error, its `cause`, a pipeline's
 * `previousErrors`, a cluster's `lastNodeError` or any other error-valued field. The name stays.
 */
export function errWithoutArgs(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  strip(out, 0);
  return out;
}

function strip(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null || depth > 5) return;
  if (Array.isArray(v)) {
    for (const e of v) strip(e, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  const c = o.command;
  if (typeof c === 'object' && c !== null && 'args' in c) o.command = { name: (c as { name?: unknown }).name };
  for (const [k, x] of Object.entries(o)) if (k !== 'command') strip(x, depth + 1);
}
