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

  it('renders the documentation page', async () => {
    const response = await app.request('/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('/openapi.json');
  });
});
