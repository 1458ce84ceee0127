export interface CoalescerOptions {
  /** The most calls one round serves. */
  maxBatch: number;
  /** The most rounds running at once. */
  maxInFlight: number;
  /**
   * How long a call that finds a free slot waits for others before its round
   * starts (default 0: at once), unless it is submitted with `now`. Fewer,
   * larger rounds, for that much delay.
   */
  lingerMs?: number;
  /**
   * When true, a call that finds a free slot waits for the end of the current
   * turn of the event loop (`setImmediate`) instead of a timer: the calls the
   * other callbacks of the same turn make join its round, and nothing waits
   * for a clock. For rounds whose cost is a round trip, not a statement.
   */
  gatherTurn?: boolean;
}

/** Handles the inputs of one round; answers one output per input, in their order. */
export type Round<In, Out> = (inputs: In[]) => Promise<Out[]>;

interface Waiting<In, Out> {
  input: In;
  resolve: (output: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Serves many concurrent calls with one round of work each time, the way a
 * database commits a group of transactions with one log flush.
 *
 * Rules: a call starts a round at once while fewer than `maxInFlight` rounds
 * run, so an idle process adds no delay (unless `lingerMs` or `gatherTurn`
 * asks it to wait for company, and the call was not submitted with `now`);
 * otherwise it waits, and the calls that gathered while every round was busy
 * go together into the next one as soon as a round ends, so rounds grow with
 * load. A round that throws rejects every call it served. Calls are never
 * dropped: each one gets its round's answer or its error.
 */
export class Coalescer<In, Out> {
  private waiting: Waiting<In, Out>[] = [];
  private running = 0;
  private lingering: NodeJS.Timeout | undefined;
  private gathering: NodeJS.Immediate | undefined;

  constructor(
    private readonly round: Round<In, Out>,
    private readonly options: CoalescerOptions,
  ) {
    if (options.maxBatch < 1 || options.maxInFlight < 1) {
      throw new Error('a coalescer needs at least one call per round and one round');
    }
  }

  /**
   * Queues a call for the next round. With `now`, a round starts at once if
   * a slot is free, taking the calls that were lingering with this one.
   */
  submit(input: In, options: { now?: boolean } = {}): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (options.now) this.startRounds();
      else this.schedule();
    });
  }

  /** Rounds running now; for tests and metrics. */
  get inFlight(): number {
    return this.running;
  }

  private schedule(): void {
    if (this.waiting.length >= this.options.maxBatch) {
      this.startRounds();
      return;
    }
    if (this.options.gatherTurn) {
      this.gathering ??= setImmediate(() => {
        this.gathering = undefined;
        this.startRounds();
      });
      return;
    }
    const linger = this.options.lingerMs ?? 0;
    if (linger <= 0) {
      this.startRounds();
      return;
    }
    this.lingering ??= setTimeout(() => {
      this.lingering = undefined;
      this.startRounds();
    }, linger);
  }

  private startRounds(): void {
    while (this.running < this.options.maxInFlight && this.waiting.length > 0) {
      const calls = this.waiting.splice(0, this.options.maxBatch);
      this.running += 1;
      void this.run(calls);
    }
    if (this.waiting.length === 0 && this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
    }
    if (this.waiting.length === 0 && this.gathering) {
      clearImmediate(this.gathering);
      this.gathering = undefined;
    }
  }

  private async run(calls: Waiting<In, Out>[]): Promise<void> {
    try {
      const outputs = await this.round(calls.map((call) => call.input));
      if (outputs.length !== calls.length) {
        throw new Error(`a round answered ${outputs.length} of ${calls.length} calls`);
      }
      outputs.forEach((output, index) => {
        calls[index]?.resolve(output);
      });
    } catch (error) {
      for (const call of calls) call.reject(error);
    } finally {
      this.running -= 1;
      this.startRounds();
    }
  }
}

/**
 * Submits a call to a coalescer whose rounds answer each call's own outcome,
 * so that one call's failure is its own, and answers it as a promise would.
 */
export async function submitSettled<In, Out>(
  coalescer: Coalescer<In, PromiseSettledResult<Out>>,
  input: In,
): Promise<Out> {
  const outcome = await coalescer.submit(input);
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** A promise's outcome as a value, for the rounds of `submitSettled`. */
export function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
  );
}
