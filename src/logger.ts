import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.js';

export type { Logger };

const CENSOR = '[redacted]';

/** Fields never written as they are, at the top of a line or one object down. */
const SECRET_FIELDS = new Set(['authorization', 'apiKey', 'secret', 'secrets']);

/**
 * A log line's fields (or a child's bindings) with every secret field
 * censored, at the top level and in the plain objects it holds directly (not
 * in errors or class instances, which pino serializes itself). The object is
 * copied only when it holds one, so an ordinary line costs a walk over its
 * own keys: pino's path-based redaction copied every line.
 */
export function redactSecrets<T extends object>(fields: T): T {
  return censorLevels(fields, 1);
}

/** `fields` with its secret fields censored, down `depth` levels of plain objects. */
function censorLevels<T extends object>(fields: T, depth: number): T {
  let copy: Record<string, unknown> | undefined;
  const record = fields as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    let replacement: unknown = value;
    if (SECRET_FIELDS.has(key)) replacement = CENSOR;
    else if (depth > 0 && isPlainObject(value)) replacement = censorLevels(value, depth - 1);
    if (replacement !== value) {
      copy ??= { ...record };
      copy[key] = replacement;
    }
  }
  return (copy ?? fields) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * One JSON logger per process; secrets and credentials never reach the
 * output. `destination` is for tests; processes write to standard output,
 * synchronously: each line is written before the call that logs it returns.
 * Pino's own default writes through libuv's thread pool, so that each line
 * (or each batch of them) costs a thread's wake-up and a second wake-up of
 * the event loop when it is done, and a line still on its way is lost if the
 * process is killed.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  name: string,
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level: config.LOG_LEVEL,
    base: { process: name, pid: process.pid },
    formatters: { log: redactSecrets },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
  // A child's bindings are written once, when it is made, and pino applies
  // no formatter of ours to them: they are censored here. Children inherit
  // this method from the logger, as their own children do from them.
  const makeChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return makeChild.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}
