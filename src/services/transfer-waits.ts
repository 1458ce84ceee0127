import { findTransfersOfTenants, type TransferRow } from '../data/transfers.js';
import type { Sql } from '../db/sql.js';
import { Coalescer } from '../lib/coalescer.js';
import { AppError } from '../lib/errors.js';

/**
 * How long a waiting read goes without looking again when no signal comes: a
 * signal lost with a worker killed right after its commit delays the answer
 * by at most this much.
 */
export const RECHECK_MS = 1_000;

/** Reads one transfer of a tenant; undefined if the tenant has no such transfer. */
export type TransferReader = (tenantId: string, id: string) => Promise<TransferRow | undefined>;

/** One registered wait for the signal: its wake-up, and how to give it up. */
export interface SettledWait {
  woken: Promise<void>;
  cancel(): void;
}

/** The post-commit signal as a waiter sees it (see `SettledWaiters`). */
export interface SettledSignal {
  /** Wakes when the transfer is reported settled, after `timeoutMs`, or at shutdown. */
  register(transferId: string, timeoutMs: number): SettledWait;
  /** True once the process stops: waiters answer with what they have. */
  readonly closing: boolean;
}

interface ReadKey {
  tenantId: string;
  id: string;
}

/**
 * Reads for long-polls. One settled signal can wake a thousand waiters at
 * once; their reads go to PostgreSQL together: while a statement runs, the
 * reads asked for meanwhile gather into the next, up to 500 in one. A read
 * that finds the reader idle goes at once.
 */
export function createTransferReader(sql: Sql): TransferReader {
  const coalescer = new Coalescer<ReadKey, TransferRow | undefined>(
    async (keys) => {
      const rows = await findTransfersOfTenants(sql, keys);
      const found = new Map(rows.map((row) => [`${row.tenantId} ${row.id}`, row]));
      return keys.map((key) => found.get(`${key.tenantId} ${key.id}`));
    },
    { maxBatch: 500, maxInFlight: 2 },
  );
  return (tenantId, id) => coalescer.submit({ tenantId, id });
}

/**
 * The transfer once it is final, or as it is when `waitMs` has passed or the
 * process stops, whichever comes first.
 *
 * Rules: the waiter registers for the signal before each read, so that a
 * signal cannot slip in between; the signal only wakes it early, and every
 * answer is what PostgreSQL says. Without a signal it reads again every
 * `RECHECK_MS`. A transfer the tenant does not have is 404.
 */
export async function awaitFinalTransfer(
  read: TransferReader,
  signal: SettledSignal,
  request: { tenantId: string; id: string; waitMs: number },
): Promise<TransferRow> {
  const { tenantId, id } = request;
  const deadline = Date.now() + request.waitMs;
  for (;;) {
    const left = deadline - Date.now();
    const wait =
      left > 0 && !signal.closing ? signal.register(id, Math.min(left, RECHECK_MS)) : null;
    let transfer: TransferRow;
    try {
      transfer = await mustRead(read, tenantId, id);
    } catch (error) {
      wait?.cancel();
      throw error;
    }
    if (!wait || transfer.status !== 'pending') {
      wait?.cancel();
      return transfer;
    }
    await wait.woken;
  }
}

async function mustRead(read: TransferReader, tenantId: string, id: string) {
  const transfer = await read(tenantId, id);
  if (!transfer) throw new AppError('not_found', `no such transfer: ${id}`);
  return transfer;
}
