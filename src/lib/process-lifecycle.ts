import type { Logger } from '../logger.js';

export interface StopOptions {
  /** The process's name in log lines: `worker`, `webhooks`, `web`. */
  name: string;
  logger: Logger;
  /** A stop that takes longer exits with code 1. */
  timeoutMs: number;
  /** Finishes the work in hand and closes every pool; the process then exits by itself. */
  stop: () => Promise<void>;
}

/**
 * Stops the process gracefully on SIGTERM or SIGINT. The exit code is set,
 * never forced, so that pending log lines and sockets close in order. A
 * second signal, or a stop that outlasts `timeoutMs`, exits at once, which
 * every process here tolerates: an unfinished transaction rolls back and an
 * unfinished job runs again.
 */
export function stopOnSignals(options: StopOptions): void {
  const { name, logger } = options;
  let stopping = false;

  const onSignal = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `second signal: ${name} exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    process.on('unhandledRejection', (reason) => droppedWhileStopping(reason, name, logger));
    setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, `${name} shutdown timed out: exiting now`);
      process.exit(1);
    }, options.timeoutMs).unref();

    try {
      await options.stop();
      logger.info(`${name} stopped`);
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, `${name} did not stop cleanly`);
      process.exitCode = 1;
    }
  };
  process.on('SIGTERM', (signal) => void onSignal(signal));
  process.on('SIGINT', (signal) => void onSignal(signal));
}

/** What ioredis rejects a command with when its connection closes before the reply. */
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * A promise rejected with nobody to catch it, once the process is stopping.
 * A Redis connection closed by the stop, or lost just then, rejects the
 * commands it still held, and some are sent by the libraries themselves (a
 * subscription renewed on reconnect, say) without a handler: those are
 * logged at `debug`, instead of crashing a process that has finished its
 * work. Any other is logged as an error and makes the exit code 1.
 */
function droppedWhileStopping(reason: unknown, name: string, logger: Logger): void {
  if (reason instanceof Error && reason.message === CONNECTION_CLOSED) {
    logger.debug({ err: reason }, 'a Redis command was dropped as its connection closed');
    return;
  }
  logger.error({ err: reason }, `unhandled rejection while ${name} was stopping`);
  process.exitCode = 1;
}

/**
 * Until the returned function is called, SIGTERM or SIGINT exits at once with
 * code 0 and a log line: for a process still starting (waiting for Redis,
 * say), which has taken no work yet and has nothing to finish.
 */
export function exitOnSignalsUntilStarted(name: string, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, `${name} stopped before it started`);
    process.exit(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
