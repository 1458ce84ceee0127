import type { Config } from '../config.js';
import { findAccounts } from '../data/accounts.js';
import type { Page, PageRequest } from '../data/pagination.js';
import {
  findTransfer,
  insertTransfer,
  insertTransfersWithNewKeys,
  listTransfers,
  lockSourceForAcceptance,
  type NewKeyedTransfer,
  type TransferFilter,
  type TransferRow,
} from '../data/transfers.js';
import { createSql, type Db, type Sql, type TransactionSql } from '../db/sql.js';
import { Coalescer } from '../lib/coalescer.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../logger.js';
import { partitionOf } from '../queue/partitions.js';
import type { TransferQueues } from '../queue/transfer-queues.js';
import type { Redis } from '../redis/connection.js';
import type { Actor } from './accounts.js';
import { type IdempotencyDeps, type IdempotentRequest, runIdempotent } from './idempotency.js';
import { pageOf } from './pages.js';

export interface TransferInput {
  sourceAccountId: string;
  destinationAccountId: string;
  amount: bigint;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown>;
}

export interface AcceptDeps {
  config: Pick<
    Config,
    'REDIS_PREFIX' | 'IDEMPOTENCY_TTL_HOURS' | 'IDEMPOTENCY_LOCK_MS' | 'PARTITIONS'
  >;
  sql: Sql;
  redis: Redis;
  queues: TransferQueues;
  log: Logger;
  acceptor: TransferAcceptor;
  inFlight?: IdempotencyDeps['inFlight'];
}

/** Accepts the first attempts of concurrent requests together (see `createTransferAcceptor`). */
export type TransferAcceptor = Coalescer<NewKeyedTransfer, TransferRow | undefined>;

/** SQLSTATE of a statement that gave up waiting for a lock (`lock_timeout`). */
const LOCK_NOT_AVAILABLE = '55P03';

/** How long a group waits for a source's acceptance lock held elsewhere. */
export const ACCEPT_LOCK_WAIT_MS = 100;

/**
 * The acceptance statements' own connections, as many as may run at once,
 * each waiting at most `ACCEPT_LOCK_WAIT_MS` for a lock. A group whose source
 * is held longer (by another web process's statement, or by a transaction
 * stuck on it) gives up, and its requests are accepted one by one on the main
 * pool, where each waits for its own source: one held source never stalls
 * the other sources of this process for longer than that.
 */
export function createAcceptancePool(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'ACCEPT_STATEMENTS'>,
  options: { onQuery?: (query: string) => void } = {},
): Sql {
  return createSql(config, {
    max: config.ACCEPT_STATEMENTS,
    application: 'fintech-core-accept',
    lockTimeoutMs: ACCEPT_LOCK_WAIT_MS,
    ...options,
  });
}

/**
 * The common case of acceptance, shared by the concurrent requests of one
 * web process: first attempts that arrive while earlier statements run are
 * accepted together, in one statement and one commit (see
 * `insertTransfersWithNewKeys`). A request alone is accepted at once.
 *
 * A statement that fails (a deadlock, a lost connection, a bad row) answers
 * undefined for each of its requests: each then runs the full transaction on
 * its own, which retries, or reports its own error, so one bad request never
 * fails the others.
 */
export function createTransferAcceptor(
  sql: Sql,
  config: Pick<Config, 'ACCEPT_BATCH_SIZE' | 'ACCEPT_STATEMENTS'>,
  log: Logger,
  /** Wraps each statement, to notice one that PostgreSQL never answers. */
  watch: <T>(statement: Promise<T>) => Promise<T> = (statement) => statement,
): TransferAcceptor {
  const round = async (items: NewKeyedTransfer[]) => {
    try {
      return await watch(insertTransfersWithNewKeys(sql, items));
    } catch (error) {
      const lockWait = (error as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
      log[lockWait ? 'info' : 'warn'](
        { err: error, count: items.length },
        lockWait
          ? 'a group of transfers waited too long for a source; each is accepted on its own'
          : 'accepting a group of transfers failed; each is retried on its own',
      );
      return items.map(() => undefined);
    }
  };
  return new Coalescer(round, {
    maxBatch: config.ACCEPT_BATCH_SIZE,
    maxInFlight: config.ACCEPT_STATEMENTS,
  });
}

/**
 * Accepts a transfer: records it as `pending` with its idempotency key in one
 * transaction, then enqueues it on its source account's partition. Once this
 * returns, the transfer is durable; if the enqueue fails, the recovery
 * sweeper enqueues it later, so the caller still gets its 202.
 *
 * Rules: both accounts must exist and belong to the tenant (404 otherwise,
 * the same answer for a foreign account as for a missing one), differ, and
 * hold the transfer's currency (422). Whether the source can pay, and
 * whether an account is closed, is decided when the transfer is applied.
 */
export async function acceptTransfer(
  deps: AcceptDeps,
  actor: Actor,
  request: IdempotentRequest,
  input: TransferInput,
) {
  return runIdempotent(deps, request, {
    resourceType: 'transfer',
    status: 202,
    newId: () => newId('tr'),
    load: (db, id) => findTransfer(db, actor.tenantId, id),
    frees: (transfer) => transfer.status === 'failed',
    createFirst: (_sql, id, record) =>
      deps.acceptor.submit({ transfer: newTransfer(deps, actor, id, input), record }),
    create: (tx, id, previous, recordId) =>
      recordTransfer(tx, deps, actor, { id, recordId, previous }, input),
    afterCreate: (transfer) => enqueueAccepted(deps, transfer),
    // A wake-up too many costs a look at the partition; one too few leaves
    // the transfer to the sweeper (`SWEEPER_PENDING_AFTER_MS`).
    afterReplay: async (transfer) => {
      if (transfer.status === 'pending') await enqueueAccepted(deps, transfer);
    },
  });
}

function newTransfer(deps: AcceptDeps, actor: Actor, id: string, input: TransferInput) {
  return {
    id,
    tenantId: actor.tenantId,
    sourceAccountId: input.sourceAccountId,
    destinationAccountId: input.destinationAccountId,
    partition: partitionOf(input.sourceAccountId, deps.config.PARTITIONS),
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    metadata: input.metadata,
  };
}

async function recordTransfer(
  tx: TransactionSql,
  deps: AcceptDeps,
  actor: Actor,
  attempt: { id: string; recordId: bigint | null; previous: TransferRow | undefined },
  input: TransferInput,
): Promise<TransferRow> {
  const { id, recordId, previous } = attempt;
  await checkAccounts(tx, actor.tenantId, input);
  await lockSourceForAcceptance(tx, input.sourceAccountId);
  return insertTransfer(tx, {
    ...newTransfer(deps, actor, id, input),
    idempotencyKeyId: recordId,
    attempt: previous ? previous.attempt + 1 : 1,
    previousAttemptId: previous?.id ?? null,
  });
}

async function checkAccounts(tx: TransactionSql, tenantId: string, input: TransferInput) {
  if (input.sourceAccountId === input.destinationAccountId) {
    throw new AppError('validation_error', 'source and destination must differ', {
      errors: [{ field: 'destination_account_id', message: 'must differ from the source' }],
    });
  }
  const ids = [input.sourceAccountId, input.destinationAccountId];
  const accounts = await findAccounts(tx, tenantId, ids);
  for (const id of ids) {
    const account = accounts.find((candidate) => candidate.id === id);
    if (!account) throw new AppError('not_found', `no such account: ${id}`);
    if (account.currency !== input.currency) {
      throw new AppError('validation_error', 'the currency differs from the accounts', {
        errors: [{ field: 'currency', message: `account ${id} holds ${account.currency}` }],
      });
    }
  }
}

async function enqueueAccepted(deps: AcceptDeps, transfer: TransferRow): Promise<void> {
  try {
    await deps.queues.wake(transfer.partition, {
      transferId: transfer.id,
      tenantId: transfer.tenantId,
    });
  } catch (error) {
    deps.log.warn(
      { err: error, transfer_id: transfer.id },
      'transfer accepted but not enqueued; the recovery sweeper will enqueue it',
    );
  }
}

export async function getTransfer(db: Db, tenantId: string, id: string): Promise<TransferRow> {
  const transfer = await findTransfer(db, tenantId, id);
  if (!transfer) throw new AppError('not_found', `no such transfer: ${id}`);
  return transfer;
}

export async function pageTransfers(
  db: Db,
  tenantId: string,
  page: PageRequest,
  filter: TransferFilter,
): Promise<Page<TransferRow>> {
  const rows = await listTransfers(db, tenantId, page, filter);
  return pageOf(db, rows, page, { list: 'transfers', scope: tenantId });
}
