import {
  type ApiClient,
  type ApiRequest,
  type ApiResponse,
  describeExchange,
} from './api-client.js';
import {
  problemSchema,
  type Transfer,
  type TransferRequest,
  transferSchema,
} from './api-schemas.js';
import type { Movement } from './berka.js';
import type { AccountIds } from './open-accounts.js';
import type { CustomerPlan, ReplayPlan } from './plan.js';
import { runPool } from './pool.js';
import { probesFor } from './probes.js';
import { newReplayStats, type ReplayStats, recordProbe, recordSettled } from './replay-stats.js';
import { sendWithRetry } from './retry.js';
import { transferBody, transferKey, transferRequest } from './transfer-request.js';

/** How long a transfer may stay pending before the demo stops waiting for it. */
const SETTLE_DEADLINE_MS = 120_000;

interface Context {
  client: ApiClient;
  ids: AccountIds;
  stats: ReplayStats;
}

/**
 * Replays every planned movement as a transfer, the way a bank's clients
 * would: each account's movements strictly one after the other (the next is
 * sent only once the previous one has settled), `concurrency` accounts at a
 * time. Accounts with the most movements start first, so the longest chains
 * do not trail at the end.
 */
export async function replay(
  client: ApiClient,
  plan: ReplayPlan,
  ids: AccountIds,
  concurrency: number,
): Promise<ReplayStats> {
  const context: Context = { client, ids, stats: newReplayStats() };
  const active = plan.customers
    .filter((customer) => customer.movements.length > 0)
    .sort((a, b) => b.movements.length - a.movements.length);
  await runPool(active, concurrency, (customer) => replayAccount(context, customer));
  return context.stats;
}

async function replayAccount(context: Context, customer: CustomerPlan): Promise<void> {
  for (const movement of customer.movements) await replayMovement(context, movement);
}

async function replayMovement(context: Context, movement: Movement): Promise<void> {
  const probes = probesFor(movement);
  const key = transferKey(movement);
  const body = transferBody(movement, context.ids);
  const call = transferRequest(key, body);

  const accepted = await submit(context, call, probes.race);
  if (!accepted) return;
  const acceptedAt = Date.now();
  if (probes.replayEarly) await checkReplay(context, call, accepted);

  const settled = await settle(context, accepted, acceptedAt);
  if (!settled) return;
  context.stats.transfers.set(movement.transId, settled);
  recordSettled(context.stats, settled, acceptedAt);

  if (probes.replayLate && settled.status === 'posted') await checkReplay(context, call, settled);
  if (probes.reuseChanged) await checkReusedKey(context, key, body);
}

/** Sends the first POST (twice at once when racing) and returns the accepted transfer. */
async function submit(
  context: Context,
  call: ApiRequest,
  race: boolean,
): Promise<Transfer | undefined> {
  const { client, stats } = context;
  const copies = race ? 2 : 1;
  const sentAt = Date.now();
  const responses = await Promise.all(
    Array.from({ length: copies }, () => sendWithRetry(client, call, stats.retries)),
  );
  const transfers = responses.map((response) => acceptedTransfer(stats, call, response));
  const [first, second] = transfers;
  if (!first || (race && !second)) {
    stats.rejected++;
    return undefined;
  }
  stats.accepted++;
  stats.lastAcceptedAt = Date.now();
  stats.acceptLatencies.push(stats.lastAcceptedAt - sentAt);
  if (race) {
    const detail = `raced duplicates got different transfers: ${first.id} and ${second?.id}`;
    recordProbe(stats, stats.races, first.id === second?.id, detail);
  }
  return first;
}

function acceptedTransfer(
  stats: ReplayStats,
  call: ApiRequest,
  response: ApiResponse,
): Transfer | undefined {
  const transfer = transferSchema.safeParse(response.body);
  const location = String(response.headers.location ?? '');
  if (response.status === 202 && transfer.success && location.endsWith(transfer.data.id)) {
    return transfer.data;
  }
  stats.anomalies.push(`not accepted as expected: ${describeExchange(call, response)}`);
  return undefined;
}

/** Long-polls the transfer until it is posted or failed, or the deadline passes. */
async function settle(
  context: Context,
  transfer: Transfer,
  acceptedAt: number,
): Promise<Transfer | undefined> {
  const { client, stats } = context;
  const call: ApiRequest = { method: 'GET', path: `/v1/transfers/${transfer.id}?wait=30` };
  let current = transfer;
  while (current.status === 'pending') {
    if (Date.now() - acceptedAt > SETTLE_DEADLINE_MS) {
      stats.unsettled++;
      stats.anomalies.push(`still pending after ${SETTLE_DEADLINE_MS} ms: ${transfer.id}`);
      return undefined;
    }
    const response = await sendWithRetry(client, call, stats.retries);
    const parsed = transferSchema.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      stats.anomalies.push(`long-poll failed: ${describeExchange(call, response)}`);
      return undefined;
    }
    current = parsed.data;
  }
  return current;
}

/** Sends the same key and body again: one transfer, flagged as a replay, never a second one. */
async function checkReplay(context: Context, call: ApiRequest, expected: Transfer): Promise<void> {
  const { client, stats } = context;
  const response = await sendWithRetry(client, call, stats.retries);
  const transfer = transferSchema.safeParse(response.body);
  const ok =
    response.status === 202 &&
    response.headers['idempotent-replayed'] === 'true' &&
    transfer.success &&
    transfer.data.id === expected.id &&
    (expected.status === 'pending' || transfer.data.status === expected.status);
  const exchange = describeExchange(call, response);
  const detail = `replay of ${expected.id} (${expected.status}): ${exchange}`;
  recordProbe(stats, stats.replays, ok, detail);
}

/** Reuses a key with a different amount: 422 idempotency_key_reused, and nothing changes. */
async function checkReusedKey(context: Context, key: string, body: TransferRequest) {
  const { client, stats } = context;
  const changed = transferRequest(key, { ...body, amount: body.amount + 1 });
  const response = await sendWithRetry(client, changed, stats.retries);
  const problem = problemSchema.safeParse(response.body);
  const ok =
    response.status === 422 && problem.success && problem.data.code === 'idempotency_key_reused';
  recordProbe(stats, stats.reusedKeys, ok, `reused key: ${describeExchange(changed, response)}`);
}
