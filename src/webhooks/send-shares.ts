/** A slot to send one request, or how long to put the attempt off. */
export type ShareAnswer = { release: () => void } | { postponeMs: number };

interface Share {
  /** When each request in flight started. */
  inFlight: Set<{ since: number }>;
  waiting: ((answer: ShareAnswer) => void)[];
}

/**
 * Webhook requests in flight per tenant in one process, at most `limit`
 * each: a tenant whose endpoints answer slowly or not at all holds no more
 * than its share of the process's attempt slots, and the other tenants'
 * webhooks still go.
 *
 * A request that finds its tenant's share taken waits up to `waitMs` for a
 * turn when the tenant's requests in flight are young (its endpoints answer
 * fast, and one frees soon); when the oldest has run longer than that, the
 * attempt is put off at once, for as long as that request has run so far
 * (between one second and `maxPostponeMs`), so that a backlog of a hanging
 * endpoint comes back rarely instead of cycling through the queue.
 */
export class SendShares {
  private readonly tenants = new Map<string, Share>();

  constructor(
    readonly limit: number,
    readonly maxPostponeMs: number,
    readonly waitMs = 200,
  ) {}

  /** Half of a process's concurrent attempts, and at least one, per tenant. */
  static forConcurrency(concurrency: number, maxPostponeMs: number): SendShares {
    return new SendShares(Math.max(1, Math.floor(concurrency / 2)), maxPostponeMs);
  }

  take(tenantId: string): Promise<ShareAnswer> {
    const share = this.tenants.get(tenantId) ?? { inFlight: new Set(), waiting: [] };
    this.tenants.set(tenantId, share);
    if (share.inFlight.size < this.limit) return Promise.resolve(this.slot(tenantId, share));

    const now = Date.now();
    const oldest = Math.min(...[...share.inFlight].map((request) => request.since));
    if (now - oldest >= this.waitMs) {
      return Promise.resolve({
        postponeMs: Math.min(this.maxPostponeMs, Math.max(1_000, now - oldest)),
      });
    }
    // A caller waiting holds an attempt slot of the process too: no more than
    // half a share of them, or a tenant whose endpoints answer in a little
    // under `waitMs` would hold every slot, sending with some, waiting with
    // the rest.
    if (share.waiting.length >= Math.max(1, Math.floor(this.limit / 2))) {
      return Promise.resolve({ postponeMs: 1_000 });
    }
    return new Promise((resolve) => {
      const turn = (answer: ShareAnswer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      const timer = setTimeout(() => {
        share.waiting.splice(share.waiting.indexOf(turn), 1);
        resolve({ postponeMs: 1_000 });
      }, this.waitMs);
      share.waiting.push(turn);
    });
  }

  private slot(tenantId: string, share: Share): ShareAnswer {
    const request = { since: Date.now() };
    share.inFlight.add(request);
    return {
      release: () => {
        share.inFlight.delete(request);
        const next = share.waiting.shift();
        if (next) next(this.slot(tenantId, share));
        else if (share.inFlight.size === 0) this.tenants.delete(tenantId);
      },
    };
  }
}
