/**
 * Calls `sample` every `intervalMs` until stopped, never two at once: a
 * slow sample delays the next rather than piling up. A failed sample is
 * counted, not thrown, so that measuring never breaks the measured run.
 */
export class Sampler {
  failures = 0;
  lastError: unknown;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly sample: () => Promise<void> | void,
  ) {}

  start(): this {
    this.#schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const started = performance.now();
      this.#running = this.#once().finally(() => {
        this.#schedule(Math.max(0, this.intervalMs - (performance.now() - started)));
      });
    }, delay);
  }

  async #once(): Promise<void> {
    try {
      await this.sample();
    } catch (error) {
      this.failures++;
      this.lastError = error;
    }
  }
}
