import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The structured JSON logger. Known secret-bearing paths are redacted as a second line of
 * defence; code must never log secrets in the first place.
 */
export function createLogger(level: string = process.env.RISKSTREAM_LOG_LEVEL ?? 'info', dest?: NodeJS.WritableStream): Logger {
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
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest ?? pino.destination({ dest: 2, sync: false }),
  );
}
