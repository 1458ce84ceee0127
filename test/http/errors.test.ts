import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { freePort } from '../../src/lib/free-port.js';
import { createRedis } from '../../src/redis/connection.js';
import {
  call,
  newTenant,
  openAccount,
  postTransfer,
  startTestApp,
  type TestApp,
} from '../support/app.js';

let app: TestApp;
let key: string;
let account: string;
let other: string;

beforeAll(async () => {
  app = await startTestApp();
  key = (await newTenant(app.sql)).key;
  account = await openAccount(app, key, { overdraft_limit: 100 });
  other = await openAccount(app, key);
});
afterAll(() => app.close());

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: unknown }>>;
}

/**
 * Every route under /v1, read from the OpenAPI document, so that a route
 * added later is checked too. Path parameters get ids that exist nowhere.
 */
async function documentedRoutes(): Promise<{ method: string; path: string; body: boolean }[]> {
  const document = (await (await app.request('/openapi.json')).json()) as OpenApiDocument;
  const routes: { method: string; path: string; body: boolean }[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    if (!template.startsWith('/v1/')) continue;
    const path = template.replace(/\{[^}]+\}/g, 'x_missing');
    for (const [method, operation] of Object.entries(operations)) {
      routes.push({
        method: method.toUpperCase(),
        path,
        body: operation.requestBody !== undefined,
      });
    }
  }
  return routes;
}

function expectProblem(answer: { status: number; headers: Headers; body: unknown }, code: string) {
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ code, status: answer.status });
  const body = answer.body as { request_id?: string; type?: string; title?: string };
  expect(body.request_id).toBe(answer.headers.get('x-request-id'));
  expect(body.type).toContain(code);
  expect(typeof body.title).toBe('string');
}

describe('every route', () => {
  it('is documented: the shared suites below cover the whole API', async () => {
    const routes = await documentedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(8);
    expect(routes).toContainEqual({ method: 'POST', path: '/v1/transfers', body: true });
  });

  it('needs an API key: 401 without one, with a wrong one, or with a revoked one', async () => {
    const revoked = await newTenant(app.sql, 'revoked');
    await app.sql`update api_keys set revoked_at = now() where tenant_id = ${revoked.tenantId}`;
    for (const { method, path, body } of await documentedRoutes()) {
      for (const credential of [undefined, 'fck_not_a_key', revoked.key]) {
        const answer = await call(app, method, path, {
          body: body ? {} : undefined,
          headers: { 'idempotency-key': 'k' },
          ...(credential ? { key: credential } : {}),
        });
        expect(answer.status, `${method} ${path}`).toBe(401);
        expectProblem(answer, 'unauthorized');
        // RFC 9110 has every 401 say how to authenticate; RFC 6750 names a bad token.
        expect(answer.headers.get('www-authenticate'), `${method} ${path}`).toBe(
          credential ? 'Bearer error="invalid_token"' : 'Bearer',
        );
      }
    }
  });

  it('answers unknown ids, bad bodies and queries with 4xx problem+json, never a 500', async () => {
    for (const { method, path, body } of await documentedRoutes()) {
      const attempts: { init: RequestInit; query: string }[] = [];
      if (path.includes('x_missing')) attempts.push({ init: {}, query: '' });
      if (body) {
        attempts.push({ init: { body: '{"unexpected": [1, 2' }, query: '' });
        attempts.push({ init: { body: '{"unexpected": true}' }, query: '' });
      }
      if (method === 'GET') attempts.push({ init: {}, query: '?limit=0&wait=99' });
      for (const { init, query } of attempts) {
        const headers = new Headers({ 'idempotency-key': `bad-${Math.random()}` });
        if (init.body) headers.set('content-type', 'application/json');
        const response = await app.request(`${path}${query}`, { ...init, method, headers, key });
        const answer = (await response.json()) as { code: string };
        const label = `${method} ${path}${query} ${String(init.body)}`;
        expect(response.status, label).toBeGreaterThanOrEqual(400);
        expect(response.status, label).toBeLessThan(500);
        expectProblem(
          { status: response.status, headers: response.headers, body: answer },
          answer.code,
        );
      }
    }
  });

  it('answers 404 for an id far longer than any issued, on every route with an id', async () => {
    const routes = (await documentedRoutes()).filter((route) => route.path.includes('x_missing'));
    for (const { method, path, body } of routes) {
      // Random, so that PostgreSQL cannot compress it into an index entry.
      const long = path.replaceAll('x_missing', `x_${randomBytes(3_000).toString('hex')}`);
      const answer = await call(app, method, long, {
        key,
        body: body ? {} : undefined,
        headers: { 'idempotency-key': `long-id-${method}-${path}` },
      });
      // A route with a body may find its fields wanting first (422).
      if (body) expect(answer.status, `${method} ${path}`).toBeLessThan(500);
      else expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });

  it('refuses a query parameter the route does not take, naming it', async () => {
    for (const { method, path, body } of await documentedRoutes()) {
      const answer = await call<{ errors: { field: string; message: string }[] }>(
        app,
        method,
        `${path}?acount_id=${account}`,
        { key, body: body ? {} : undefined, headers: { 'idempotency-key': `q-${method}-${path}` } },
      );
      expect(answer.status, `${method} ${path}`).toBe(422);
      expectProblem(answer, 'validation_error');
      expect(answer.body.errors, `${method} ${path}`).toContainEqual({
        field: 'acount_id',
        message: 'not a parameter of this route',
      });
    }
  });

  it('refuses a body on a route that takes none, naming its fields', async () => {
    const bodiless = (await documentedRoutes()).filter((r) => r.method === 'POST' && !r.body);
    expect(bodiless.length).toBeGreaterThanOrEqual(2);
    for (const { method, path } of bodiless) {
      const headers = { 'idempotency-key': `no-body-${path}` };
      const fields = await call(app, method, path, { key, headers, body: { colour: 1 } });
      expect(fields.status, path).toBe(422);
      expectProblem(fields, 'validation_error');
      expect(fields.body.errors, path).toEqual([{ field: 'colour', message: 'not a field' }]);
      const text = await call(app, method, path, { key, headers, body: 'hello' });
      expect(text.status, path).toBe(422);
      expect(text.body.errors, path).toEqual([
        { field: '(body)', message: 'this route takes no body' },
      ]);
      // An empty object names nothing: the route answers as without a body.
      const empty = await call(app, method, path, { key, headers, body: {} });
      expect(empty.status, path).toBe(404);
    }
  });

  it('records nothing for a request refused for its query; names unknown body fields', async () => {
    const body = { source_account_id: account, destination_account_id: other, amount: 5 };
    const headers = { 'idempotency-key': 'query-then-clean' };
    const refused = await call(app, 'POST', '/v1/transfers?dry_run=1', {
      key,
      headers,
      body: { ...body, currency: 'EUR' },
    });
    expect(refused.status).toBe(422);
    const accepted = await call(app, 'POST', '/v1/transfers', {
      key,
      headers,
      body: { ...body, currency: 'EUR' },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('idempotent-replayed')).toBeNull();

    const unknownField = await call<{ errors: { field: string; message: string }[] }>(
      app,
      'POST',
      '/v1/accounts',
      {
        key,
        headers: { 'idempotency-key': 'unknown-field' },
        body: { currency: 'EUR', colour: 1 },
      },
    );
    expect(unknownField.status).toBe(422);
    expect(unknownField.body.errors).toEqual([{ field: 'colour', message: 'not a field' }]);
  });

  it('says a query parameter was given more than once', async () => {
    for (const query of ['limit=1&limit=2', 'status=posted&status=failed']) {
      const answer = await call<{ errors: { field: string; message: string }[] }>(
        app,
        'GET',
        `/v1/transfers?${query}`,
        { key },
      );
      expect(answer.status, query).toBe(422);
      expect(answer.body.errors, query).toEqual([
        { field: query.split('=')[0], message: 'given more than once' },
      ]);
    }
  });

  it('answers specific bad input with the right code', async () => {
    const bad: [string, string, RequestInit, number][] = [
      ['POST', '/v1/accounts', { body: '{"currency":' }, 400],
      ['POST', '/v1/accounts', { body: '{"currency":"euro","overdraft_limit":-1}' }, 422],
      ['POST', '/v1/accounts', { body: '[]' }, 422],
      ['POST', '/v1/accounts', { body: '{"currency":"XYZ"}' }, 422],
      ['POST', '/v1/accounts', { body: '{"currency":"eur"}' }, 422],
      ['POST', '/v1/accounts', { body: '{"currency":"EUR","surprise":1}' }, 422],
      ['POST', '/v1/transfers', { body: '{"amount":"12"}' }, 422],
      ['POST', '/v1/transfers', { body: '{"amount":9007199254740992}' }, 422],
      ['POST', '/v1/transfers', { body: 'null' }, 422],
      ['GET', '/v1/accounts?limit=0', {}, 422],
      ['GET', '/v1/accounts?limit=abc', {}, 422],
      ['GET', '/v1/transfers?status=lost', {}, 422],
      ['GET', '/v1/transfers/tr_x?wait=31', {}, 422],
      ['GET', `/v1/accounts/${account}/entries?limit=101`, {}, 422],
      ['PUT', '/v1/accounts', { body: '{}' }, 405],
      ['GET', '/v1/nowhere', {}, 404],
    ];
    for (const [method, path, init, status] of bad) {
      const headers = new Headers({ 'idempotency-key': `specific-${Math.random()}` });
      if (init.body) headers.set('content-type', 'application/json');
      const response = await app.request(path, { ...init, method, headers, key });
      const body = (await response.json()) as { code: string };
      expect(response.status, `${method} ${path} ${String(init.body)}`).toBe(status);
      expectProblem({ status: response.status, headers: response.headers, body }, body.code);
    }
  });
});

describe('error codes', () => {
  it('validation_error lists each failing field', async () => {
    const answer = await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'v-1' },
      body: { source_account_id: account, amount: 0, currency: 'eur' },
    });
    expect(answer.status).toBe(422);
    expectProblem(answer, 'validation_error');
    const fields = (answer.body as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields.sort()).toEqual(['amount', 'currency', 'destination_account_id']);
  });

  it('validation_error reports an amount or overdraft limit past 2^53 once', async () => {
    const answer = await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'v-big' },
      body: {
        source_account_id: account,
        destination_account_id: other,
        amount: 2 ** 53,
        currency: 'EUR',
      },
    });
    expect(answer.status).toBe(422);
    expectProblem(answer, 'validation_error');
    const errors = (answer.body as { errors: { field: string; message: string }[] }).errors;
    expect(errors.map((error) => error.field)).toEqual(['amount']);

    const limit = await call(app, 'POST', '/v1/accounts', {
      key,
      headers: { 'idempotency-key': 'v-big-limit' },
      body: { currency: 'EUR', overdraft_limit: 2 ** 53 },
    });
    expect(limit.status).toBe(422);
    const limitErrors = (limit.body as { errors: { field: string }[] }).errors;
    expect(limitErrors.map((error) => error.field)).toEqual(['overdraft_limit']);
  });

  it('validation_error if currency differs from accounts, or source = destination', async () => {
    const base = { source_account_id: account, destination_account_id: other, amount: 1 };
    const currency = await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'v-2' },
      body: { ...base, currency: 'USD' },
    });
    expect(currency.status).toBe(422);
    expectProblem(currency, 'validation_error');
    const same = await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'v-3' },
      body: { ...base, destination_account_id: account, currency: 'EUR' },
    });
    expect(same.status).toBe(422);
    expectProblem(same, 'validation_error');
  });

  it('validation_error for a body that gives a name twice, and nothing is recorded', async () => {
    const body = `{"source_account_id":"${account}","destination_account_id":"${other}",`;
    const cases: [string, string][] = [
      [`${body}"amount":1,"currency":"EUR","amount":1000}`, 'amount'],
      [`${body}"amount":1,"currency":"EUR","metadata":{"a":1,"\\u0061":2}}`, 'metadata.a'],
    ];
    for (const [text, field] of cases) {
      const answer = await app.request('/v1/transfers', {
        method: 'POST',
        key,
        headers: { 'idempotency-key': 'named-twice' },
        body: text,
      });
      expect(answer.status, text).toBe(422);
      expect(await answer.json()).toMatchObject({
        code: 'validation_error',
        errors: [{ field, message: 'given more than once' }],
      });
    }
    const clean = await postTransfer(app, key, 'named-twice', {
      source: account,
      destination: other,
    });
    expect(clean.status).toBe(202);
    expect(clean.headers.get('idempotent-replayed')).toBeNull();
  });

  it('method_not_allowed, with Allow, for a route that takes other methods', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/v1/transfers/tr_x', 'GET, HEAD'],
      ['PUT', '/v1/accounts', 'GET, HEAD, POST'],
      ['POST', '/v1/webhook-endpoints/whe_x', 'DELETE, GET, HEAD, PATCH'],
      ['POST', '/healthz', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await call(app, method, path, { key });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expectProblem(answer, 'method_not_allowed');
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    const nowhere = await call(app, 'DELETE', '/v1/nothing/here', { key });
    expect(nowhere.status).toBe(404);
    expect(nowhere.headers.get('allow')).toBeNull();
  });

  it('malformed_json, unsupported_media_type and not_found', async () => {
    const headers = { 'idempotency-key': 'm-1' };
    const malformed = await app.request('/v1/transfers', {
      method: 'POST',
      key,
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"amount": 1,',
    });
    expectProblem(
      { status: malformed.status, headers: malformed.headers, body: await malformed.json() },
      'malformed_json',
    );
    expect(malformed.status).toBe(400);

    const media = await app.request('/v1/transfers', {
      method: 'POST',
      key,
      headers: { ...headers, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(media.status).toBe(415);
    expectProblem(
      { status: media.status, headers: media.headers, body: await media.json() },
      'unsupported_media_type',
    );

    const missing = await call(app, 'GET', '/v1/accounts/acct_missing', { key });
    expect(missing.status).toBe(404);
    expectProblem(missing, 'not_found');
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const sane = await call(app, 'GET', '/v1/accounts', {
      key,
      headers: { 'x-request-id': 'client-abc.123' },
    });
    expect(sane.headers.get('x-request-id')).toBe('client-abc.123');
    const unsafe = await call(app, 'GET', '/v1/accounts', {
      key,
      headers: { 'x-request-id': 'a b;c' },
    });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('unavailable (503) when Redis is down, and nothing is recorded', async () => {
    const port = await freePort();
    const deadRedis = createRedis({ REDIS_URL: `redis://127.0.0.1:${port}` });
    deadRedis.on('error', () => {});
    const broken = createApp({ ...app.deps, redis: deadRedis });
    const before = await app.sql`select id from transfers where source_account_id = ${account}`;
    const response = await broken.request('/v1/transfers', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': 'outage-1',
      },
      body: JSON.stringify({
        source_account_id: account,
        destination_account_id: other,
        amount: 1,
        currency: 'EUR',
      }),
    });
    deadRedis.disconnect();
    expect(response.status).toBe(503);
    expectProblem(
      { status: response.status, headers: response.headers, body: await response.json() },
      'unavailable',
    );
    const after = await app.sql`select id from transfers where source_account_id = ${account}`;
    expect(after.length).toBe(before.length);
  });
});

describe('over a real socket', () => {
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    const web = createApp(app.deps);
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: web.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(started),
      );
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends `head` (request line and headers) and `body` as written; answers the status. */
  async function statusOfRaw(head: string[], body = ''): Promise<number> {
    const { port } = server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      // Written, not ended: a client that half-closes is taken as gone. The
      // server closes the connection once it has answered.
      const lines = [...head, `Authorization: Bearer ${key}`, 'Connection: close', '', body];
      const socket = connect(port, '127.0.0.1', () => socket.write(lines.join('\r\n')));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('error', reject);
    });
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  }

  it('reads a request without Content-Length or Transfer-Encoding as having no body', async () => {
    // HTTP/1.1 frames such a request's body as empty, as curl -X POST sends it.
    const rotate = 'POST /v1/webhook-endpoints/whep_missing/rotate-secret HTTP/1.1';
    for (const type of [[], ['Content-Type: application/json']]) {
      expect(await statusOfRaw([rotate, 'Host: localhost', ...type]), type.join()).toBe(404);
    }
    expect(await statusOfRaw(['PUT /v1/accounts HTTP/1.1', 'Host: localhost'])).toBe(405);
    // A route that needs a body says which fields are missing.
    expect(await statusOfRaw(['POST /v1/accounts HTTP/1.1', 'Host: localhost'])).toBe(422);
  });

  it('refuses an Idempotency-Key sent twice rather than joining the two into one key', async () => {
    const body = JSON.stringify({ currency: 'EUR' });
    const head = [
      'POST /v1/accounts HTTP/1.1',
      'Host: localhost',
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      'Idempotency-Key: twice-a',
      'Idempotency-Key: twice-b',
    ];
    expect(await statusOfRaw(head, body)).toBe(400);
    const [row] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from idempotency_keys where key like 'twice-%'`;
    expect(row?.n).toBe(0);
  });

  it('answers an oversized body with 413, not a reset connection', async () => {
    const huge = JSON.stringify({ description: 'x'.repeat(app.config.MAX_BODY_BYTES * 4) });
    for (const chunked of [false, true]) {
      const body = chunked
        ? new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(huge));
              controller.close();
            },
          })
        : huge;
      const response = await fetch(`${base}/v1/transfers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': `big-${chunked}`,
        },
        body,
        ...(chunked ? { duplex: 'half' } : {}),
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
    }
  });
});

describe('text PostgreSQL cannot store', () => {
  it('answers NUL and lone surrogates in bodies, queries, paths with 4xx, never 500', async () => {
    const bodies = [
      '{"currency":"EUR","reference":"a\\u0000b"}',
      '{"currency":"EUR","metadata":{"x":"\\ud800"}}',
      '{"currency":"EUR","metadata":{"a\\u0000b":"x"}}',
      '{"currency":"EUR","metadata":{"__proto__":{"role":"admin"}}}',
    ];
    for (const body of bodies) {
      const response = await app.request('/v1/accounts', { method: 'POST', key, body });
      expect(response.status, body).toBe(422);
      expect(await response.json()).toMatchObject({ code: 'validation_error' });
    }
    const paths: [string, number][] = [
      ['/v1/accounts?reference=%00', 422],
      ['/v1/transfers?starting_after=%00', 422],
      ['/v1/transfers/%00', 404],
      [`/v1/accounts/${'x'.repeat(300)}`, 404],
    ];
    for (const [path, status] of paths) {
      const response = await app.request(path, { key });
      expect(response.status, path).toBe(status);
    }
  });

  it('answers a body nested thousands of levels deep with 422, not a 500', async () => {
    const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    for (const levels of [40, 5_000]) {
      const body = `{"currency":"EUR","metadata":${deep(levels)}}`;
      for (const path of ['/v1/accounts', '/v1/transfers']) {
        const response = await app.request(path, { method: 'POST', key, body });
        expect(response.status, `${path} at ${levels} levels`).toBe(422);
        expect(await response.json()).toMatchObject({
          code: 'validation_error',
          errors: [{ message: 'must not nest more than 32 levels' }],
        });
      }
    }
  });
});
