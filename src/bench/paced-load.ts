import { elapsed } from './clock.js';
import { HttpConnection } from './http-connection.js';
import type { LoadResult } from './load.js';

export interface PacedOptions {
  urls: string[];
  /** Requests per second over all web processes. */
  rate: number;
  seconds: number;
  /** Connections, shared out among the web processes. */
  connections: number;
  /** The n-th request's path, headers and body; built when it is due. */
  next: () => { path: string; headers: Record<string, string>; body: string };
  /** How long the run waits, once it stops sending, for the answers still due. */
  answerWaitMs?: number;
}

/** Checks for due requests at least this often while waiting for the next one. */
const TICK_MS = 1;

const ANSWER_WAIT_MS = 30_000;

interface Due {
  dueMs: number;
  bytes: Buffer;
}

/**
 * An open-loop load: request n is due n / rate seconds after the start,
 * whatever became of the requests before it, and its latency is measured
 * from that moment, not from when it was written. A request that waits for
 * a free connection, or goes out late because the generator's own event
 * loop was held up, is charged the wait, so a stall of the server shows in
 * the latency of every request due meanwhile instead of as requests never
 * sent (coordinated omission).
 *
 * Requests go round-robin to the web processes, each over its share of the
 * keep-alive connections, one request in flight per connection; a due
 * request with no free connection waits for the first to free up. The run
 * stops sending after `seconds`, then waits for the answers still due.
 */
export async function runPaced(options: PacedOptions, result: LoadResult): Promise<void> {
  const servers = options.urls.map((url, index) => {
    const { hostname, port, host } = new URL(url);
    const count = Math.max(1, share(options.connections, options.urls.length, index));
    const all = Array.from({ length: count }, () => new HttpConnection(hostname, Number(port)));
    return { host, all, idle: [...all], queued: [] as Due[] };
  });

  const intervalMs = 1000 / options.rate;
  const total = Math.floor(options.rate * options.seconds);
  const startMs = performance.now();
  let outstanding = 0;
  let sendingDone = false;
  let drained: () => void = () => {};
  const allAnswered = new Promise<void>((resolve) => {
    drained = resolve;
  });

  // Set when the run gives up on the answers still due: from then on nothing
  // is counted and nothing more is sent.
  let over = false;
  const dispatch = (server: (typeof servers)[number], connection: HttpConnection, due: Due) => {
    connection.send(due.bytes, (outcome) => {
      if (over) return;
      if (outcome instanceof Error) {
        result.errors += 1;
      } else {
        result.doneAt.push(elapsed());
        result.latencyMs.push(performance.now() - due.dueMs);
        result.status.push(outcome);
      }
      outstanding -= 1;
      const next = server.queued.shift();
      if (next) dispatch(server, connection, next);
      else server.idle.push(connection);
      if (sendingDone && outstanding === 0) drained();
    });
  };

  const send = (n: number) => {
    const server = servers[n % servers.length];
    if (!server) return;
    const request = options.next();
    const bytes = serialize(server.host, request);
    const due = { dueMs: startMs + n * intervalMs, bytes };
    result.lateMs.push(performance.now() - due.dueMs);
    result.lateAt.push(elapsed());
    outstanding += 1;
    result.sent += 1;
    const connection = server.idle.shift();
    if (connection) dispatch(server, connection, due);
    else server.queued.push(due);
  };

  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const dueNow = Math.floor((performance.now() - startMs) / intervalMs) + 1;
      const upTo = Math.min(total, dueNow);
      while (sent < upTo) send(sent++);
      if (sent >= total) {
        resolve();
        return;
      }
      const untilNext = startMs + sent * intervalMs - performance.now();
      setTimeout(tick, Math.max(0, Math.min(TICK_MS, untilNext)));
    };
    tick();
  });
  sendingDone = true;
  if (outstanding > 0) {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), options.answerWaitMs ?? ANSWER_WAIT_MS);
    });
    if (await Promise.race([allAnswered.then(() => false), gaveUp])) result.timeouts += outstanding;
    clearTimeout(timer);
  }
  over = true;
  for (const server of servers) {
    server.queued.length = 0;
    for (const connection of server.all) connection.close();
  }
}

function serialize(
  host: string,
  request: { path: string; headers: Record<string, string>; body: string },
): Buffer {
  const body = Buffer.from(request.body);
  let head = `POST ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(request.headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The `index`-th of `parts` near-equal whole shares of `total`. */
export function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}
