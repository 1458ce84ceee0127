import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config.js';
import { appendEvents, type EventRow, type EventType } from '../../src/data/events.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { createLogger } from '../../src/logger.js';
import { startWebhookRuntime, type WebhookRuntime } from '../../src/webhooks/runtime.js';
import { call, startTestApp, type TestApp } from '../support/app.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/databases.js';

/**
 * The web application on a freshly migrated database of its own, dropped on
 * close. The outbox is shared by every tenant of a database, so a webhooks
 * runtime started by one test file would otherwise dispatch (with its own
 * settings) the events another file running at the same time expects.
 */
export async function startIsolatedApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = await createScratchDatabase('wh');
  const app = await startTestApp({ ...overrides, DATABASE_URL: databaseUrl });
  return {
    ...app,
    close: async () => {
      await app.close();
      await dropScratchDatabase(databaseUrl);
    },
  };
}

export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** How the receiver answers the n-th request (1-based) it gets. */
export type Behaviour = (request: ReceivedRequest, n: number) => Reply | Promise<Reply>;

/** A real webhook receiver: an HTTP server on 127.0.0.1 that records every request. */
export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  behave(behaviour: Behaviour): void;
  /** Requests that carried this webhook-id. */
  requestsFor(eventId: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startReceiver(
  behaviour: Behaviour = () => ({ status: 200 }),
  port = 0,
): Promise<Receiver> {
  let current = behaviour;
  const requests: ReceivedRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers[name] = value;
    }
    const request = { headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
    requests.push(request);
    const reply = await current(request, requests.length);
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? '');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    requests,
    behave(next) {
      current = next;
    },
    requestsFor: (eventId) => requests.filter((r) => r.headers['webhook-id'] === eventId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const receiver = await startReceiver();
  await receiver.close();
  return receiver.port;
}

/** Writes events the way the services do: in a transaction, through appendEvents. */
export async function appendTestEvents(
  sql: Sql,
  tenantId: string,
  count: number,
  type: EventType = 'transfer.posted',
): Promise<EventRow[]> {
  return (await sql.begin((tx) =>
    appendEvents(
      tx,
      tenantId,
      Array.from({ length: count }, (_, index) => ({
        type,
        data: { id: `tr_test${index}`, object: 'transfer', amount: index + 1 },
      })),
    ),
  )) as EventRow[];
}

export interface RunningWebhooks {
  runtime: WebhookRuntime;
  sql: Sql;
  stop(): Promise<void>;
}

/** The webhooks process's runtime, in this process, with a pool of its own. */
export async function startWebhooks(config: Config): Promise<RunningWebhooks> {
  const sql = createSql(config, { application: 'test-webhooks' });
  const runtime = await startWebhookRuntime(config, {
    sql,
    logger: createLogger(config, 'test-webhooks'),
  });
  return {
    runtime,
    sql,
    stop: async () => {
      await runtime.close();
      await sql.end();
    },
  };
}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface EndpointAnswer {
  id: string;
  secret: string;
  enabled: boolean;
  disabled_reason: string | null;
}

export async function createEndpoint(
  app: TestApp,
  key: string,
  url: string,
  eventTypes: string[] = ['*'],
): Promise<EndpointAnswer> {
  const answer = await call<EndpointAnswer>(app, 'POST', '/v1/webhook-endpoints', {
    key,
    body: { url, event_types: eventTypes },
  });
  if (answer.status !== 201)
    throw new Error(`endpoint not created: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export interface AttemptAnswer {
  attempt: number;
  manual: boolean;
  started_at: string;
  duration_ms: number;
  succeeded: boolean;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

export interface DeliveryAnswer {
  id: string;
  event_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  failure_reason: string | null;
  attempts: AttemptAnswer[];
}

export async function listDeliveries(
  app: TestApp,
  key: string,
  endpointId: string,
): Promise<DeliveryAnswer[]> {
  const answer = await call<{ data: DeliveryAnswer[] }>(
    app,
    'GET',
    `/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`,
    { key },
  );
  if (answer.status !== 200) throw new Error(`deliveries: ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}

export interface WebhooksEnvironment {
  readonly app: TestApp;
  readonly webhooks: RunningWebhooks;
}

/**
 * An isolated app and a webhooks runtime for the enclosing describe block:
 * started before its tests, stopped after them.
 */
export function useWebhooksEnvironment(
  overrides: Record<string, string> = {},
): WebhooksEnvironment {
  let app: TestApp | undefined;
  let webhooks: RunningWebhooks | undefined;
  beforeAll(async () => {
    app = await startIsolatedApp(overrides);
    webhooks = await startWebhooks(app.config);
  });
  afterAll(async () => {
    await webhooks?.stop();
    await app?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the webhooks environment starts in beforeAll');
    return value;
  };
  return {
    get app() {
      return started(app);
    },
    get webhooks() {
      return started(webhooks);
    },
  };
}
