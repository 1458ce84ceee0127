import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** One JSON logger per process; secrets and credentials never reach the output. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    base: { process: name, pid: process.pid },
    redact: {
      paths: [
        'authorization',
        'headers.authorization',
        '*.authorization',
        'apiKey',
        'secret',
        '*.secret',
        'secrets',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
