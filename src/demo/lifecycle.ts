import type { Config } from '../config.js';
import type { Supervisor } from './processes.js';
import { clearRedisPrefix } from './redis-cleanup.js';
import { say } from './report.js';

/**
 * The demo's one way out: drop its own connections (so the web process has
 * no busy keep-alive connection to wait for), stop every process it started,
 * then remove its Redis keys. Safe to run more than once and from several
 * places (the end of the run, a failure, Ctrl-C); the work happens once. The
 * database is kept, so the ledger can be inspected afterwards; the next run
 * drops it.
 */
export class Shutdown {
  readonly #closers: (() => void)[] = [];
  #done: Promise<void> | undefined;

  constructor(
    readonly supervisor: Supervisor,
    readonly config: Config,
  ) {}

  /** Registers something to close before the processes are stopped. */
  closeFirst(close: () => void): void {
    this.#closers.push(close);
  }

  run(): Promise<void> {
    this.#done ??= this.#shutdown();
    return this.#done;
  }

  async #shutdown(): Promise<void> {
    for (const close of this.#closers) close();
    const stopped = await this.supervisor.stopAll();
    say(`Stopped: ${stopped.map((result) => `${result.name} ${result.how}`).join(', ')}`);
    const keys = await clearRedisPrefix(this.config).catch(() => 0);
    const { REDIS_PREFIX } = this.config;
    say(`Removed ${keys} Redis keys under ${REDIS_PREFIX}; logs kept in ${this.supervisor.logDir}`);
  }
}

/**
 * Ctrl-C or a SIGTERM stops the children before the demo exits (130 or 143,
 * as a shell would report), and any way of exiting kills what is left.
 */
export function stopOnSignals(shutdown: Shutdown): void {
  const codes = { SIGINT: 130, SIGTERM: 143 } as const;
  let received: NodeJS.Signals | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Under npm and tsx one Ctrl-C can arrive more than once.
      if (received) return;
      received = signal;
      say(`\n${signal}: stopping every process the demo started`);
      void shutdown.run().finally(() => process.exit(codes[signal]));
    });
  }
  process.on('exit', () => shutdown.supervisor.killNow());
}
