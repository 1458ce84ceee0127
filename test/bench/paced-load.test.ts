import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadResult } from '../../src/bench/load.js';
import { runPaced } from '../../src/bench/paced-load.js';

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

function emptyResult(): LoadResult {
  return {
    startedAt: 0,
    finishedAt: 0,
    doneAt: [],
    latencyMs: [],
    status: [],
    lateMs: [],
    sent: 0,
    errors: 0,
    timeouts: 0,
  };
}

describe('paced load generator', () => {
  it('sends rate × seconds requests with their own headers and bodies, and reads each status', async () => {
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
    const result = emptyResult();
    await runPaced(
      {
        urls: [url],
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
      },
      result,
    );

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

  it('keeps sending on schedule while the server is slow, and charges the wait to the latency', async () => {
    const url = await serve((_request, _body, response) => {
      setTimeout(() => response.end('{}'), 20);
    });
    const startedAt = performance.now();
    const result = emptyResult();
    await runPaced(
      {
        urls: [url],
        rate: 200,
        seconds: 0.25,
        connections: 1,
        next: () => ({ path: '/v1/transfers', headers: {}, body: '{}' }),
      },
      result,
    );
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
    const result = emptyResult();
    await runPaced(
      {
        urls: [url],
        rate: 100,
        seconds: 0.1,
        connections: 1,
        next: () => ({ path: '/v1/transfers', headers: {}, body: '{}' }),
      },
      result,
    );

    expect(result.sent).toBe(10);
    expect(result.errors).toBe(1);
    expect(result.status).toEqual(Array.from({ length: 9 }, () => 200));
  });
});
