import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('API documentation', () => {
  it('serves an OpenAPI document generated from the route schemas', async () => {
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/accounts',
        '/v1/accounts/{id}',
        '/v1/accounts/{id}/entries',
        '/v1/transfers',
        '/v1/transfers/{id}',
      ]),
    );
    expect(document.components.schemas.CreateTransfer?.required).toEqual(
      expect.arrayContaining(['source_account_id', 'destination_account_id', 'amount', 'currency']),
    );
  });

  it('documents 409 on every operation that takes an Idempotency-Key', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>
      >;
    };
    const keyed = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) =>
          operation.parameters?.some((parameter) => parameter.name === 'idempotency-key'),
        )
        .map(([method, operation]) => [`${method} ${path}`, '409' in operation.responses]),
    );
    expect(keyed.length).toBeGreaterThanOrEqual(4);
    for (const [operation, documented] of keyed)
      expect([operation, documented]).toEqual([operation, true]);
  });

  it('marks the Idempotency-Key required where a request without it is refused', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; required?: boolean }[] }>
      >;
    };
    const keyOf = (path: string, method: string) =>
      document.paths[path]?.[method]?.parameters?.find((p) => p.name === 'idempotency-key');
    expect(keyOf('/v1/transfers', 'post')?.required).toBe(true);
    expect(keyOf('/v1/accounts', 'post')?.required).toBe(false);
  });

  it('renders the documentation page', async () => {
    const response = await app.request('/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('/openapi.json');
  });
});
