import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ClientClosedError } from '../../src/demo/api-client.js';
import { newRetryCounters, sendWithRetry } from '../../src/demo/retry.js';

/** A local HTTP server that gives the scripted answers in order, then 200. */
async function scriptedServer(answers: { status: number; code?: string }[]) {
  const seen: { key: string; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      seen.push({ key: String(request.headers['idempotency-key']), body });
      const answer = answers.shift() ?? { status: 200 };
      const type = answer.code ? 'application/problem+json' : 'application/json';
      response.writeHead(answer.status, { 'content-type': type });
      response.end(JSON.stringify(answer.code ? { code: answer.code } : { ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, seen, baseUrl: `http://127.0.0.1:${port}` };
}

let running: Server | undefined;
afterEach(() => {
  running?.close();
  running = undefined;
});

describe('sendWithRetry', () => {
  it('retries 409 idempotency_key_in_flight and 503 with the same key and body', async () => {
    const { server, seen, baseUrl } = await scriptedServer([
      { status: 409, code: 'idempotency_key_in_flight' },
      { status: 503, code: 'unavailable' },
    ]);
    running = server;
    const client = new ApiClient(baseUrl, 'key', 4);
    const counters = newRetryCounters();

    const call = { method: 'POST' as const, path: '/v1/transfers', idempotencyKey: 'berka-1' };
    const response = await sendWithRetry(client, { ...call, body: { amount: 5 } }, counters);

    expect(response.status).toBe(200);
    expect(counters).toEqual({ inFlight: 1, unavailable: 1, network: 0 });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => `${s.key} ${s.body}`))).toEqual(
      new Set(['berka-1 {"amount":5}']),
    );
    client.close();
  });

  it('returns any other answer as it is, 409s of other codes included', async () => {
    const { server, baseUrl } = await scriptedServer([{ status: 409, code: 'account_not_empty' }]);
    running = server;
    const client = new ApiClient(baseUrl, 'key', 4);

    const response = await sendWithRetry(client, { method: 'GET', path: '/x' }, newRetryCounters());

    expect(response.status).toBe(409);
    expect(response.body).toEqual({ code: 'account_not_empty' });
    client.close();
  });

  it('gives up at once when the client is closed', async () => {
    const client = new ApiClient('http://127.0.0.1:9', 'key', 1);
    client.close();

    const sending = sendWithRetry(client, { method: 'GET', path: '/x' }, newRetryCounters());

    await expect(sending).rejects.toThrow(ClientClosedError);
  });
});
