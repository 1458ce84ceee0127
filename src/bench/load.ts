import autocannon from 'autocannon';
import { elapsed } from './clock.js';
import type { Pair } from './pairs.js';
import { randomAmount } from './pairs.js';
import { BENCH_CURRENCY } from './seed.js';

export interface LoadOptions {
  /** Base URLs of the web processes; the connections are shared out among them. */
  urls: string[];
  apiKey: string;
  pick: () => Pair;
  seconds: number;
  connections: number;
  /** Requests per second over all connections: an open-loop run. Closed-loop when absent. */
  rate?: number;
  /** Unique per run: every request gets an Idempotency-Key no other request had. */
  keyPrefix: string;
}

/** Every response of a load run, in completion order. */
export interface LoadResult {
  startedAt: number;
  finishedAt: number;
  /** Run-clock second at which each response arrived. */
  doneAt: number[];
  /** Milliseconds from sending each request to its response, as measured by autocannon. */
  latencyMs: number[];
  status: number[];
  /** Requests sent; those still in flight when the run ended got no answer here. */
  sent: number;
  /** Connection errors and timeouts: requests that got no answer at all. */
  errors: number;
  timeouts: number;
}

/**
 * POSTs transfers with autocannon, each request with a fresh Idempotency-Key
 * and body, the connections shared out among the web processes.
 *
 * Closed-loop (no rate): one instance per web process; each connection sends
 * its next request when the previous answer arrives.
 *
 * Open-loop (a rate): autocannon paces by a quota per connection per second,
 * which its connections spend at once when each second begins, so one
 * instance would fire the whole second's requests in a burst and measure the
 * queue of that burst rather than the latency at that rate. The rate is
 * therefore split over STAGGER instances per web process, started evenly
 * spaced over one second, which turns one burst a second into small ones
 * every 1/STAGGER s.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    startedAt: elapsed(),
    finishedAt: 0,
    doneAt: [],
    latencyMs: [],
    status: [],
    sent: 0,
    errors: 0,
    timeouts: 0,
  };
  let counter = 0;
  const nextKey = () => `${options.keyPrefix}-${(counter++).toString(36)}`;

  const runs = instancesOf(options).map(async (instance) => {
    if (instance.delayMs > 0) await sleep(instance.delayMs);
    await runOne(instance, options, nextKey, result);
  });
  await Promise.all(runs);
  result.finishedAt = elapsed();
  return result;
}

const STAGGER = 25;

interface Instance {
  url: string;
  connections: number;
  rate: number | undefined;
  delayMs: number;
}

function instancesOf(options: LoadOptions): Instance[] {
  const { urls, connections, rate } = options;
  return urls.flatMap((url, index): Instance[] => {
    const webConnections = Math.max(1, share(connections, urls.length, index));
    if (rate === undefined) return [{ url, connections: webConnections, rate, delayMs: 0 }];
    const webRate = share(Math.round(rate), urls.length, index);
    const count = Math.max(1, Math.min(STAGGER, webRate, webConnections));
    return Array.from({ length: count }, (_, slot) => ({
      url,
      connections: share(webConnections, count, slot),
      rate: Math.max(1, share(webRate, count, slot)),
      delayMs: (slot * 1000) / count,
    }));
  });
}

async function runOne(
  { url, connections, rate }: Instance,
  options: LoadOptions,
  nextKey: () => string,
  result: LoadResult,
): Promise<void> {
  let finish: (error: unknown, done: autocannon.Result) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, done) => (error ? reject(error) : resolve(done));
  });
  const instance = autocannon(
    {
      url: `${url}/v1/transfers`,
      method: 'POST',
      connections,
      duration: options.seconds,
      ...(rate === undefined ? {} : { overallRate: rate }),
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.apiKey}`,
      },
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, 'idempotency-key': nextKey() },
            body: transferBody(options.pick()),
          }),
        },
      ],
    },
    (error: unknown, done) => finish(error, done),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    result.doneAt.push(elapsed());
    result.latencyMs.push(responseTime);
    result.status.push(statusCode);
  });
  const done = await finished;
  result.sent += done.requests.sent;
  result.errors += done.errors;
  result.timeouts += done.timeouts;
}

function transferBody(pair: Pair): string {
  return JSON.stringify({
    source_account_id: pair.source,
    destination_account_id: pair.destination,
    amount: randomAmount(),
    currency: BENCH_CURRENCY,
    description: 'benchmark',
  });
}

/** The `index`-th of `parts` near-equal whole shares of `total`. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
