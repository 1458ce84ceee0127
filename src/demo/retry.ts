import {
  type ApiClient,
  type ApiRequest,
  type ApiResponse,
  ClientClosedError,
} from './api-client.js';
import { problemSchema } from './api-schemas.js';

export interface RetryCounters {
  /** 409 idempotency_key_in_flight: another request with the key was running. */
  inFlight: number;
  /** 503 unavailable. */
  unavailable: number;
  /** No answer at all: refused or reset connection, timeout. */
  network: number;
}

export function newRetryCounters(): RetryCounters {
  return { inFlight: 0, unavailable: 0, network: 0 };
}

const GIVE_UP_AFTER_MS = 120_000;

/**
 * Sends a request until it gets an answer that is not a "try again": a 409
 * idempotency_key_in_flight is retried shortly, a 503 or a lost connection
 * with growing back-off. Repeating is safe because every POST the demo sends
 * carries an Idempotency-Key and every GET is read-only. Gives up, with the
 * last error, after two minutes, and at once when the client is closed.
 */
export async function sendWithRetry(
  client: ApiClient,
  call: ApiRequest,
  counters: RetryCounters,
): Promise<ApiResponse> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const outcome = judge(await client.send(call).catch(errorOf));
    if (outcome.kind === 'answer') return outcome.response;
    if (Date.now() - started > GIVE_UP_AFTER_MS) {
      throw new Error(`${call.method} ${call.path}: still failing after retries (${outcome.last})`);
    }

    counters[outcome.reason]++;
    await sleep(outcome.reason === 'inFlight' ? jitter(25) : backoff(attempt));
  }
}

type Outcome =
  | { kind: 'answer'; response: ApiResponse }
  | { kind: 'retry'; reason: keyof RetryCounters; last: string };

function judge(result: ApiResponse | Error): Outcome {
  if (result instanceof Error) return { kind: 'retry', reason: 'network', last: result.message };
  const last = `status ${result.status}`;
  if (result.status === 503) return { kind: 'retry', reason: 'unavailable', last };
  const problem = problemSchema.safeParse(result.body);
  const inFlight = problem.success && problem.data.code === 'idempotency_key_in_flight';
  if (result.status === 409 && inFlight) return { kind: 'retry', reason: 'inFlight', last };
  return { kind: 'answer', response: result };
}

function errorOf(error: unknown): Error {
  if (error instanceof ClientClosedError) throw error;
  return error instanceof Error ? error : new Error(String(error));
}

function backoff(attempt: number): number {
  return jitter(Math.min(2_000, 50 * 2 ** attempt));
}

function jitter(ms: number): number {
  return ms / 2 + Math.random() * ms;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
