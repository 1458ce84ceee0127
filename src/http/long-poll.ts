import type { Logger } from '../logger.js';
import { type Redis, redisKeys, subscribeWhenReady } from '../redis/connection.js';
import { parseSettled } from '../redis/settled.js';
import type { SettledWait } from '../services/transfer-waits.js';

type Wake = () => void;

/**
 * Lets requests wait for transfers to settle. One Redis subscription per web
 * process fans the workers' post-commit signal out to local waiters. A waiter
 * always reads PostgreSQL again after waking, so a missed or duplicated
 * signal only changes when it answers, never what.
 */
export class SettledWaiters {
  private readonly waiting = new Map<string, Set<Wake>>();
  private closed = false;
  private subscribed = false;
  private listenerAdded = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /**
   * Subscribes. With Redis down the subscription waits for it, and resolves
   * once Redis has answered; until then `listening` is false, and waiters
   * answer at their timeout, from PostgreSQL, as they would after a missed
   * signal. Rejects when Redis refuses the subscription.
   */
  async start(): Promise<void> {
    const channel = redisKeys(this.prefix).transferSettledChannel;
    if (!this.listenerAdded) {
      this.listenerAdded = true;
      this.subscriber.on('message', (received: string, raw: string) => {
        if (received !== channel) return;
        const message = parseSettled(raw);
        if (!message) {
          this.log.warn({ channel }, 'ignored a malformed settled message');
          return;
        }
        for (const id of message.transferIds) this.wake(id);
      });
    }
    await subscribeWhenReady(this.subscriber, channel);
    this.subscribed = true;
  }

  /**
   * Subscribes as `start` does, without waiting, and tries again every
   * `retryMs` while Redis refuses (a permission missing, say), logging each
   * refusal, until it succeeds or the waiters close.
   */
  keepSubscribing(retryMs = 1_000): void {
    this.start().catch((error: unknown) => {
      if (this.closed) return;
      this.log.error({ err: error, retryMs }, 'cannot subscribe to settled transfers');
      this.retry = setTimeout(() => this.keepSubscribing(retryMs), retryMs);
    });
  }

  /**
   * Whether signals can arrive: the subscription was made and its connection
   * is up (ioredis subscribes again after a reconnect).
   */
  get listening(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  /**
   * `woken` resolves when `transferId` is reported settled, after
   * `timeoutMs`, when the process shuts down, or when `cancel` is called,
   * whichever comes first. Register before the final database read so that
   * no signal can slip between the two; cancel once the answer is known.
   */
  register(transferId: string, timeoutMs: number): SettledWait {
    if (this.closed || timeoutMs <= 0) return { woken: Promise.resolve(), cancel: () => {} };
    let wake: Wake = () => {};
    const woken = new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      wake = () => {
        if (timer) clearTimeout(timer);
        this.remove(transferId, wake);
        resolve();
      };
      timer = setTimeout(wake, timeoutMs);
      let set = this.waiting.get(transferId);
      if (!set) {
        set = new Set();
        this.waiting.set(transferId, set);
      }
      set.add(wake);
    });
    return { woken, cancel: () => wake() };
  }

  get closing(): boolean {
    return this.closed;
  }

  get size(): number {
    let count = 0;
    for (const set of this.waiting.values()) count += set.size;
    return count;
  }

  /** Answers every waiter now; used when the process stops. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    for (const id of [...this.waiting.keys()]) this.wake(id);
  }

  private wake(transferId: string): void {
    const set = this.waiting.get(transferId);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  private remove(transferId: string, wake: Wake): void {
    const set = this.waiting.get(transferId);
    if (!set) return;
    set.delete(wake);
    if (set.size === 0) this.waiting.delete(transferId);
  }
}
