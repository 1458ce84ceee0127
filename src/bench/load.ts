import autocannon from 'autocannon';
import { elapsed } from './clock.js';
import { runPaced, share } from './paced-load.js';
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
  /**
   * Milliseconds to each response: from sending the request in a closed loop
   * (autocannon's figure), from the moment it was due in an open one.
   */
  latencyMs: number[];
  status: number[];
  /**
   * Open loop only: how late the generator got round to each request after
   * it was due, in ms, before any wait for a free connection. It is part of
   * the latency too; a large figure here means the generator's own event
   * loop, not the server, held requests up.
   */
  lateMs: number[];
  /** Open loop only: the run-clock second at which each of `lateMs` was taken, in order. */
  lateAt: number[];
  /** Requests sent; those still in flight when the run ended got no answer here. */
  sent: number;
  /** Connection errors and timeouts: requests that got no answer at all. */
  errors: number;
  timeouts: number;
}

/** A load result with nothing recorded yet, started now. */
export function emptyLoadResult(): LoadResult {
  return {
    startedAt: elapsed(),
    finishedAt: 0,
    doneAt: [],
    latencyMs: [],
    status: [],
    lateMs: [],
    lateAt: [],
    sent: 0,
    errors: 0,
    timeouts: 0,
  };
}

/**
 * POSTs transfers, each request with a fresh Idempotency-Key and body, the
 * connections shared out among the web processes.
 *
 * Closed-loop (no rate): autocannon, one instance per web process; each
 * connection sends its next request when the previous answer arrives.
 *
 * Open-loop (a rate): the paced generator (`runPaced`), one request every
 * 1/rate s, latency from the moment each was due. autocannon's own pacing
 * is not used: it hands each connection a quota per second, spent at once
 * when the second begins, so it sends bursts, measures each request from
 * when a busy connection got round to it, and falls short of the rate when
 * its connections are busy.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = emptyLoadResult();
  let counter = 0;
  const nextKey = () => `${options.keyPrefix}-${(counter++).toString(36)}`;
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${options.apiKey}`,
  };

  if (options.rate === undefined) {
    await Promise.all(
      options.urls.map((url, index) =>
        runClosed(
          { url, connections: Math.max(1, share(options.connections, options.urls.length, index)) },
          { ...options, headers, nextKey },
          result,
        ),
      ),
    );
  } else {
    await runPaced(
      {
        urls: options.urls,
        rate: options.rate,
        seconds: options.seconds,
        connections: options.connections,
        next: () => ({
          path: '/v1/transfers',
          headers: { ...headers, 'idempotency-key': nextKey() },
          body: transferBody(options.pick()),
        }),
      },
      result,
    );
  }
  result.finishedAt = elapsed();
  return result;
}

async function runClosed(
  { url, connections }: { url: string; connections: number },
  options: LoadOptions & { headers: Record<string, string>; nextKey: () => string },
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
      headers: options.headers,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, 'idempotency-key': options.nextKey() },
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
