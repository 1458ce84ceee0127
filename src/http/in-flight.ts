import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types.js';

/**
 * Counts requests whose handlers are still running, including those whose
 * client has gone, so that a stopping process closes its pools only after
 * the last one finished. While draining, answers carry `Connection: close`
 * so that keep-alive clients move to another process.
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
      this.count--;
      if (this.count === 0) for (const wake of this.idle.splice(0)) wake();
    }
  };

  get size(): number {
    return this.count;
  }

  /** Resolves once no request is running; call after the server stopped accepting. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
