import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  closeAccount,
  getAccount,
  openAccount,
  openAccountOperation,
  pageAccounts,
  pageEntries,
} from '../../services/accounts.js';
import { runIdempotent } from '../../services/idempotency.js';
import { accountView, entryView } from '../../services/views.js';
import { noQuery } from '../middleware/no-query.js';
import { actorOf, idempotentRequest, listBody, markReplay } from '../request.js';
import { Account, AccountList, CreateAccountBody, EntryList } from '../schemas/accounts.js';
import {
  conflictResponse,
  errorResponses,
  IdempotencyHeaders,
  idParam,
  PageQuery,
} from '../schemas/common.js';
import type { AppEnv, Deps } from '../types.js';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
const AccountId = idParam('acct');

const create = createRoute({
  method: 'post',
  middleware: [noQuery],
  path: '/v1/accounts',
  tags: ['accounts'],
  summary: 'Open an account',
  request: { body: { ...json(CreateAccountBody), required: true }, headers: IdempotencyHeaders },
  responses: {
    201: { description: 'The new account', ...json(Account) },
    ...errorResponses,
    ...conflictResponse,
  },
});

const read = createRoute({
  method: 'get',
  middleware: [noQuery],
  path: '/v1/accounts/{id}',
  tags: ['accounts'],
  summary: 'Read an account',
  request: { params: AccountId },
  responses: { 200: { description: 'The account', ...json(Account) }, ...errorResponses },
});

const list = createRoute({
  method: 'get',
  path: '/v1/accounts',
  tags: ['accounts'],
  summary: 'List accounts, newest first',
  request: { query: PageQuery.extend({ reference: z.string().min(1).max(255).optional() }) },
  responses: {
    200: { description: 'A page of accounts', ...json(AccountList) },
    ...errorResponses,
  },
});

const close = createRoute({
  method: 'delete',
  middleware: [noQuery],
  path: '/v1/accounts/{id}',
  tags: ['accounts'],
  summary: 'Close an account (it is kept, never deleted)',
  request: { params: AccountId },
  responses: {
    200: { description: 'The closed account', ...json(Account) },
    ...errorResponses,
    ...conflictResponse,
  },
});

const entries = createRoute({
  method: 'get',
  path: '/v1/accounts/{id}/entries',
  tags: ['accounts'],
  summary: "List an account's ledger entries, newest first",
  request: { params: AccountId, query: PageQuery },
  responses: { 200: { description: 'A page of entries', ...json(EntryList) }, ...errorResponses },
});

export function registerAccountRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const actor = actorOf(c);
    const input = {
      currency: body.currency,
      overdraftLimit: BigInt(body.overdraft_limit),
      reference: body.reference ?? null,
      metadata: body.metadata,
    };
    const request = idempotentRequest(c, '/v1/accounts', { required: false, body });
    if (!request) return c.json(accountView(await openAccount(deps.sql, actor, input)), 201);

    const result = await runIdempotent(deps, request, openAccountOperation(actor, input));
    markReplay(c, result.replayed);
    return c.json(accountView(result.resource), 201);
  });

  app.openapi(read, async (c) => {
    const account = await getAccount(deps.sql, actorOf(c).tenantId, c.req.valid('param').id);
    return c.json(accountView(account), 200);
  });

  app.openapi(list, async (c) => {
    const query = c.req.valid('query');
    const page = await pageAccounts(
      deps.sql,
      actorOf(c).tenantId,
      { limit: query.limit, startingAfter: query.starting_after },
      { reference: query.reference },
    );
    return c.json(listBody(page, accountView), 200);
  });

  app.openapi(close, async (c) => {
    const account = await closeAccount(deps.sql, actorOf(c), c.req.valid('param').id);
    return c.json(accountView(account), 200);
  });

  app.openapi(entries, async (c) => {
    const query = c.req.valid('query');
    const page = await pageEntries(deps.sql, actorOf(c).tenantId, c.req.valid('param').id, {
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    return c.json(listBody(page, entryView), 200);
  });
}
