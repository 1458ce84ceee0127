import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyLoadResult, type LoadResult } from '../../src/bench/load.js';
import { type PacedOptions, runPaced } from '../../src/bench/paced-load.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

let server: Server | undefined;

afterEach(async () => {
  const open = server;
  server = undefined;
  if (open) await new Promise((resolve) => open.close(resolve));
});

async function serve(handler: Handler): Promise<string> {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => handler(request, body, response));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/**
 * A paced run against `url`: 100/s for 0.1 s on one connection with empty
 * bodies, unless `options` say otherwise.
 */
async function pace(url: string, options: Partial<PacedOptions>): Promise<LoadResult> {
  const result = emptyLoadResult();
  await runPaced(
    {
      urls: [url],
      rate: 100,
      seconds: 0.1,
      connections: 1,
      next: () => ({ path: '/v1/transfers', headers: {}, body: '{}' }),
      ...options,
    },
    result,
  );
  return result;
}

describe('paced load generator', () => {
  it('sends rate × seconds requests, each its own, and reads every status', async () => {
    const seen: { key: string | undefined; body: string }[] = [];
    const url = await serve((request, body, response) => {
      seen.push({ key: request.headers['idempotency-key'] as string | undefined, body });
      if (seen.length % 2 === 0) {
        // No Content-Length: Node sends the body chunked.
        response.writeHead(409, { 'content-type': 'application/json' });
        response.write('{"part":');
        response.end('"two"}');
      } else {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: true, echo: body }));
      }
    });
    let n = 0;
    const result = await pace(url, {
      rate: 200,
      seconds: 0.5,
      connections: 4,
      next: () => {
        n += 1;
        return {
          path: '/v1/transfers',
          headers: { 'idempotency-key': `k-${n}` },
          body: `{"n":${n}}`,
        };
      },
    });

    expect(result.sent).toBe(100);
    expect(result.errors).toBe(0);
    expect(result.status).toHaveLength(100);
    expect(result.status.filter((status) => status === 202)).toHaveLength(50);
    expect(result.status.filter((status) => status === 409)).toHaveLength(50);
    expect(new Set(seen.map((request) => request.key)).size).toBe(100);
    expect(seen.map((request) => JSON.parse(request.body).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, index) => index + 1),
    );
  });

  it('keeps to its schedule while the server is slow, and charges the wait', async () => {
    const url = await serve((_request, _body, response) => {
      setTimeout(() => response.end('{}'), 20);
    });
    const startedAt = performance.now();
    const result = await pace(url, {
      rate: 200,
      seconds: 0.25,
      connections: 1,
    });
    const tookMs = performance.now() - startedAt;

    // One connection answering every 20 ms serves 50 requests due within
    // 250 ms in about a second: the last waited for the 49 before it.
    expect(result.sent).toBe(50);
    expect(result.status).toHaveLength(50);
    expect(tookMs).toBeGreaterThan(900);
    const worst = Math.max(...result.latencyMs);
    expect(worst).toBeGreaterThan(700);
    const first = result.latencyMs[0] ?? 0;
    expect(first).toBeGreaterThanOrEqual(20);
    expect(first).toBeLessThan(200);
  });

  it('counts a connection the server drops as an error and goes on with a new one', async () => {
    let requests = 0;
    const url = await serve((request, _body, response) => {
      requests += 1;
      if (requests === 3) {
        request.socket.destroy();
        return;
      }
      response.end('{}');
    });
    const result = await pace(url, {});

    expect(result.sent).toBe(10);
    expect(result.errors).toBe(1);
    expect(result.status).toEqual(Array.from({ length: 9 }, () => 200));
  });

  it('fails only the request whose connection is reset; answers go to their own', async () => {
    let requests = 0;
    const url = await serve((request, body, response) => {
      requests += 1;
      if (requests === 3) {
        request.socket.resetAndDestroy();
        return;
      }
      response.writeHead(200 + Number(JSON.parse(body).n), { 'content-type': 'text/plain' });
      response.end('ok');
    });
    let n = 0;
    const result = await pace(url, {
      // Due faster than one connection answers: requests wait their turn,
      // and the one behind the reset goes out at once on a new socket.
      rate: 2_000,
      seconds: 0.005,
      connections: 1,
      next: () => ({ path: '/v1/transfers', headers: {}, body: `{"n":${n++}}` }),
    });

    expect(result.errors).toBe(1);
    expect(result.status).toEqual([200, 201, 203, 204, 205, 206, 207, 208, 209]);
  });

  it('moves to a new connection after an answer that closes its own', async () => {
    let answered = 0;
    const url = await serve((_request, _body, response) => {
      answered += 1;
      response.writeHead(200, answered % 4 === 0 ? { connection: 'close' } : {});
      response.end('{}');
    });
    const result = await pace(url, {
      // Queued behind one connection, as in the test above.
      rate: 4_000,
      seconds: 0.025,
      connections: 1,
    });

    expect(result.errors).toBe(0);
    expect(answered).toBe(100);
    expect(result.status).toHaveLength(100);
  });

  it('reads chunked answers with trailer fields', async () => {
    const url = await serve((_request, _body, response) => {
      response.writeHead(202, { trailer: 'x-check' });
      response.write('{"a":');
      response.addTrailers({ 'x-check': '1' });
      response.end('1}');
    });
    const result = await pace(url, { seconds: 0.2 });

    expect(result.errors).toBe(0);
    expect(result.status).toEqual(Array.from({ length: 20 }, () => 202));
  });

  it('counts the unanswered as timed out when it stops waiting, then sends no more', async () => {
    let seen = 0;
    const url = await serve((_request, _body, response) => {
      seen += 1;
      if (seen <= 2) response.end('{}');
    });
    const result = await pace(url, {
      rate: 20,
      seconds: 0.5,
      connections: 2,
      answerWaitMs: 300,
    });
    const atReturn = { ...result, seen };
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(atReturn.status).toHaveLength(2);
    expect(atReturn.timeouts).toBe(8);
    expect(atReturn.errors).toBe(0);
    expect({ ...result, seen }).toEqual(atReturn);
  });
});
