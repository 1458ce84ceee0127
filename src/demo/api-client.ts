import { Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the answer was not JSON. */
  body: unknown;
}

const DEFAULT_TIMEOUT_MS = 45_000;

/**
 * A JSON client for one API key over a keep-alive connection pool. It makes
 * exactly one attempt per call; retrying is the caller's decision, since only
 * the caller knows whether the request is safe to repeat.
 */
export class ApiClient {
  readonly #agent: Agent;
  #closed = false;
  #inFlight = 0;
  /** The most requests that were ever in flight at once. */
  peakInFlight = 0;

  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
    maxSockets: number,
  ) {
    // Idle sockets are closed after 3 s, before the server's own keep-alive
    // timeout can close one under a request that is just being written.
    this.#agent = new Agent({ keepAlive: true, maxSockets, timeout: 3_000 });
  }

  async send(call: ApiRequest): Promise<ApiResponse> {
    if (this.#closed) throw new ClientClosedError(`${call.method} ${call.path}: client closed`);
    this.#inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.#inFlight);
    try {
      return await this.#exchange(call);
    } finally {
      this.#inFlight--;
    }
  }

  /** Drops every connection; calls still waiting for an answer fail and no new one is made. */
  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }

  #exchange(call: ApiRequest): Promise<ApiResponse> {
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    const url = new URL(call.path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const outgoing = request(url, {
        method: call.method,
        agent: this.#agent,
        headers: this.#headers(call, payload),
        timeout: call.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`timed out: ${call.path}`)));
      outgoing.on('error', reject);
      outgoing.on('response', (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () =>
          resolve(toResponse(incoming.statusCode ?? 0, incoming.headers, chunks)),
        );
      });
      outgoing.end(payload);
    });
  }

  #headers(call: ApiRequest, payload: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.apiKey}`,
      accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    return headers;
  }
}

/** The client was closed: the demo is stopping, and retrying would be pointless. */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
}

function toResponse(status: number, headers: IncomingHttpHeaders, chunks: Buffer[]): ApiResponse {
  const text = Buffer.concat(chunks).toString('utf8');
  const isJson = /json/.test(headers['content-type'] ?? '');
  if (!isJson || text === '') return { status, headers, body: text };
  try {
    return { status, headers, body: JSON.parse(text) as unknown };
  } catch {
    return { status, headers, body: text };
  }
}

/** A one-line account of an exchange, for anomalies in the report. */
export function describeExchange(call: ApiRequest, response: ApiResponse): string {
  const sent = call.body === undefined ? '' : ` ${JSON.stringify(call.body)}`;
  const key = call.idempotencyKey ? ` Idempotency-Key: ${call.idempotencyKey}` : '';
  const replayed = response.headers['idempotent-replayed'];
  const flag = replayed ? ` Idempotent-Replayed: ${String(replayed)}` : '';
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  return `${call.method} ${call.path}${key}${sent} -> ${response.status}${flag} ${body}`;
}
