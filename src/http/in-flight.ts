import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types.js';

/**
 * Counts requests whose handlers are still running, including those whose
 * client has gone, and the work they left running after their answer (see
 * `keep`), so that a stopping process closes its pools only after the last
 * of them finished. While draining, answers carry `Connection: close` so
 * that keep-alive clients move to another process.
 */
export class InFlight {
  private count = 0;
  private draining = false;
  private idle: (() => void)[] = [];

  readonly middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    this.count++;
    try {
      await next();
      if (this.draining) c.header('connection', 'close');
    } finally {
      this.done();
    }
  };

  /**
   * Counts `work` as in flight until it settles: for what a request starts
   * and its answer does not wait for. Its failure is the work's own to
   * report; here it is only waited for.
   */
  keep(work: Promise<unknown>): void {
    this.count++;
    void work.then(
      () => this.done(),
      () => this.done(),
    );
  }

  get size(): number {
    return this.count;
  }

  private done(): void {
    this.count--;
    if (this.count === 0) for (const wake of this.idle.splice(0)) wake();
  }

  /** Resolves once nothing counted is running; call after the server stopped accepting. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
