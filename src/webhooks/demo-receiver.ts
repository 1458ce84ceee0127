import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A webhook receiver for the demo, independent of the sender's code: every
 * request is verified with the `standardwebhooks` library (the
 * specification's own implementation), never with ours. It listens on
 * 127.0.0.1 only, so the web and webhooks processes must run with
 * WEBHOOK_ALLOW_PRIVATE_URLS=true to reach it.
 */

export interface ReceivedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface ReceiverStats {
  /** Every request that arrived, whatever became of it. */
  requests: number;
  validSignatures: number;
  invalidSignatures: number;
  /** Valid requests for an event already received: expected, delivery is at least once. */
  duplicates: number;
  /** Requests answered 503 on purpose (see `failFirstAttempts`). */
  injectedFailures: number;
  /** Distinct events received with a valid signature. */
  delivered: number;
  byType: Record<string, number>;
}

export interface DemoReceiverOptions {
  /** Answer the first N requests of every event with 503, to show retries. */
  failFirstAttempts?: number;
  /** The signing secret, if known already; `registerDemoReceiver` sets it. */
  secret?: string;
}

export interface DemoReceiver {
  /** The URL to register, on 127.0.0.1. */
  url: string;
  /** Verifies from now on with this secret (or these, while rotating). */
  setSecrets(secrets: string[]): void;
  stats(): ReceiverStats;
  /** Distinct events received with a valid signature, in order of first arrival. */
  events(): ReceivedEvent[];
  /** Resolves true once `count` distinct events arrived, false after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/** Starts a receiver on 127.0.0.1 at a free port. */
export async function startDemoReceiver(options: DemoReceiverOptions = {}): Promise<DemoReceiver> {
  let verifiers = options.secret ? [new Webhook(options.secret)] : [];
  const failFirst = options.failFirstAttempts ?? 0;
  const received = new Map<string, ReceivedEvent>();
  const requestsPerEvent = new Map<string, number>();
  const stats: ReceiverStats = {
    requests: 0,
    validSignatures: 0,
    invalidSignatures: 0,
    duplicates: 0,
    injectedFailures: 0,
    delivered: 0,
    byType: {},
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const body = await readBody(req);
    const headers = webhookHeaders(req);
    const eventId = headers['webhook-id'];
    const seen = (requestsPerEvent.get(eventId) ?? 0) + 1;
    requestsPerEvent.set(eventId, seen);
    if (seen <= failFirst) {
      stats.injectedFailures++;
      return answer(res, 503, { injected_failure: true });
    }

    const payload = verify(verifiers, body, headers);
    if (!payload) {
      stats.invalidSignatures++;
      return answer(res, 400, { error: 'invalid signature' });
    }
    stats.validSignatures++;
    if (received.has(eventId)) {
      stats.duplicates++;
      return answer(res, 200, { duplicate: true });
    }
    received.set(eventId, { id: eventId, ...payload });
    stats.delivered = received.size;
    stats.byType[payload.type] = (stats.byType[payload.type] ?? 0) + 1;
    return answer(res, 200, { received: true });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => answer(res, 500, { error: 'receiver error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    setSecrets(secrets) {
      verifiers = secrets.map((secret) => new Webhook(secret));
    },
    stats: () => ({ ...stats, byType: { ...stats.byType } }),
    events: () => [...received.values()],
    async waitForEvents(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (received.size < count) {
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Registers the receiver through the API as an endpoint for `eventTypes`
 * and gives it the secret the API answered with.
 */
export async function registerDemoReceiver(
  baseUrl: string,
  apiKey: string,
  receiver: DemoReceiver,
  eventTypes: string[] = ['*'],
): Promise<{ endpointId: string; secret: string }> {
  const response = await fetch(new URL('/v1/webhook-endpoints', baseUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      url: receiver.url,
      event_types: eventTypes,
      description: 'demo receiver',
    }),
  });
  const body = (await response.json()) as { id?: unknown; secret?: unknown; detail?: unknown };
  if (response.status !== 201 || typeof body.id !== 'string' || typeof body.secret !== 'string') {
    throw new Error(
      `could not register the demo receiver (${response.status}): ${String(body.detail ?? '')}`,
    );
  }
  receiver.setSecrets([body.secret]);
  return { endpointId: body.id, secret: body.secret };
}

function verify(
  verifiers: Webhook[],
  body: string,
  headers: WebhookHeaders,
): Omit<ReceivedEvent, 'id'> | undefined {
  for (const verifier of verifiers) {
    try {
      const payload = verifier.verify(body, headers) as Omit<ReceivedEvent, 'id'>;
      return payload;
    } catch {
      // Try the next secret.
    }
  }
  return undefined;
}

interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function webhookHeaders(req: IncomingMessage): WebhookHeaders {
  const pick = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  return {
    'webhook-id': pick('webhook-id'),
    'webhook-timestamp': pick('webhook-timestamp'),
    'webhook-signature': pick('webhook-signature'),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
