import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { AppError } from '../../lib/errors.js';
import { stallGuard } from '../../lib/stall-guard.js';
import { awaitFinalTransfer, createTransferReader } from '../../services/transfer-waits.js';
import {
  acceptTransfer,
  createTransferAcceptor,
  getTransfer,
  pageTransfers,
} from '../../services/transfers.js';
import { transferView } from '../../services/views.js';
import { noQuery } from '../middleware/no-query.js';
import {
  actorOf,
  idempotentRequest,
  listBody,
  markReplay,
  requireIdempotencyKey,
} from '../request.js';
import {
  conflictResponse,
  errorResponses,
  idParam,
  PageQuery,
  RequiredIdempotencyHeaders,
} from '../schemas/common.js';
import {
  CreateTransferBody,
  Transfer,
  TransferList,
  TransferStatus,
  WaitQuery,
} from '../schemas/transfers.js';
import type { AppEnv, Deps } from '../types.js';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const create = createRoute({
  method: 'post',
  path: '/v1/transfers',
  tags: ['transfers'],
  summary: 'Submit a transfer',
  description:
    'Answers 202 once the transfer is durable; it is applied asynchronously. ' +
    'Idempotency-Key is required: a retry with the same key and body replays the answer.',
  middleware: [requireIdempotencyKey, noQuery] as const,
  request: {
    body: { ...json(CreateTransferBody), required: true },
    headers: RequiredIdempotencyHeaders,
  },
  responses: {
    202: {
      description: 'Accepted, or replayed (Idempotent-Replayed: true)',
      headers: z.object({ location: z.string(), 'idempotent-replayed': z.string().optional() }),
      ...json(Transfer),
    },
    ...errorResponses,
    ...conflictResponse,
  },
});

const read = createRoute({
  method: 'get',
  path: '/v1/transfers/{id}',
  tags: ['transfers'],
  summary: 'Read a transfer, optionally waiting until it is final',
  request: { params: idParam('tr'), query: WaitQuery },
  responses: { 200: { description: 'The transfer', ...json(Transfer) }, ...errorResponses },
});

const list = createRoute({
  method: 'get',
  path: '/v1/transfers',
  tags: ['transfers'],
  summary: 'List transfers, newest first',
  request: {
    query: PageQuery.extend({
      account_id: z.string().min(1).max(64).optional(),
      status: TransferStatus.optional(),
    }),
  },
  responses: {
    200: { description: 'A page of transfers', ...json(TransferList) },
    ...errorResponses,
  },
});

export function registerTransferRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const watch = stallGuard(deps.config.DATABASE_STALL_MS, deps.onStall);
  const acceptor = createTransferAcceptor(deps.acceptSql ?? deps.sql, deps.config, deps.log, watch);
  const acceptDeps = { ...deps, acceptor };
  const readForWait = createTransferReader(deps.sql);

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const request = idempotentRequest(c, '/v1/transfers', { required: true, body });
    if (!request) throw new Error('an idempotency key is required here');
    const result = await acceptTransfer(acceptDeps, actorOf(c), request, {
      sourceAccountId: body.source_account_id,
      destinationAccountId: body.destination_account_id,
      amount: BigInt(body.amount),
      currency: body.currency,
      description: body.description ?? null,
      metadata: body.metadata,
    });
    markReplay(c, result.replayed);
    c.header('location', `/v1/transfers/${result.resource.id}`);
    c.header('x-transfer-id', result.resource.id);
    return c.json(transferView(result.resource), 202);
  });

  app.openapi(read, async (c) => {
    const tenantId = actorOf(c).tenantId;
    const { id } = c.req.valid('param');
    const waitSeconds = c.req.valid('query').wait ?? 0;
    // The schema takes up to 30; a server may be set to take less.
    if (waitSeconds > deps.config.LONG_POLL_MAX_SECONDS) {
      throw new AppError('validation_error', 'the request has invalid fields', {
        errors: [
          { field: 'wait', message: `at most ${deps.config.LONG_POLL_MAX_SECONDS} seconds here` },
        ],
      });
    }

    const transfer =
      waitSeconds > 0
        ? await awaitFinalTransfer(readForWait, deps.waiters, {
            tenantId,
            id,
            waitMs: waitSeconds * 1000,
          })
        : await getTransfer(deps.sql, tenantId, id);
    return c.json(transferView(transfer), 200);
  });

  app.openapi(list, async (c) => {
    const query = c.req.valid('query');
    const page = await pageTransfers(
      deps.sql,
      actorOf(c).tenantId,
      { limit: query.limit, startingAfter: query.starting_after },
      { accountId: query.account_id, status: query.status },
    );
    return c.json(listBody(page, transferView), 200);
  });
}
