import type { Sql } from '../db/sql.js';
import { elapsed } from './clock.js';
import { Sampler } from './sampler.js';
import { countSettled } from './settlement.js';
import { sleep } from './stack.js';
import type { Timeline } from './timeline.js';

/**
 * Watches one tenant's transfers become final, polling PostgreSQL every
 * 250 ms from the start of a load run into the `settled:<label>` series
 * (a running count), so settling can be plotted against accepting.
 */
export class SettleWatch {
  #latest = { settled: 0, pending: 0 };
  readonly #sampler: Sampler;

  constructor(sql: Sql, tenantId: string, timeline: Timeline, label: string) {
    this.#sampler = new Sampler(250, async () => {
      this.#latest = await countSettled(sql, tenantId);
      timeline.add(`settled:${label}`, elapsed(), this.#latest.settled);
    });
  }

  start(): this {
    this.#sampler.start();
    return this;
  }

  /**
   * Waits until at least `accepted` transfers are final and none is pending;
   * false when `timeoutSeconds` ran out first. Requests still in flight when
   * the load stopped (`sent` counts them) may yet be accepted, so unless all
   * `sent` are final it also waits `graceSeconds` before trusting a count
   * with nothing pending. Stops the watch either way.
   */
  async until(
    counts: { accepted: number; sent: number },
    options: { timeoutSeconds: number; graceSeconds: number },
  ): Promise<boolean> {
    const started = elapsed();
    const deadline = started + options.timeoutSeconds;
    try {
      for (;;) {
        const { settled, pending } = this.#latest;
        const quiet = settled >= counts.sent || elapsed() - started >= options.graceSeconds;
        if (settled >= counts.accepted && pending === 0 && quiet) return true;
        if (elapsed() > deadline) return false;
        await sleep(50);
      }
    } finally {
      await this.#sampler.stop();
    }
  }
}
