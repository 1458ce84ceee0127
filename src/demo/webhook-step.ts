import {
  type DemoReceiver,
  registerDemoReceiver,
  startDemoReceiver,
} from '../webhooks/demo-receiver.js';
import type { ApiClient } from './api-client.js';
import { type Check, examples } from './checks.js';
import type { ReplayStats } from './replay-stats.js';
import type { DemoRun, DemoStep } from './steps.js';

/** How long the receiver may lag behind the last settled transfer. */
const DELIVERY_WAIT_MS = 120_000;

/**
 * Registers a local webhook receiver before the replay and, once every
 * transfer has settled, checks what it got: one `transfer.posted` or
 * `transfer.failed` event per settled transfer, each signature valid under
 * the `standardwebhooks` library, and none missing.
 */
export function webhookStep(): DemoStep {
  let receiver: DemoReceiver | undefined;

  return {
    name: 'webhooks',
    needsProcess: 'webhooks',
    async prepare(run: DemoRun) {
      receiver = await startDemoReceiver();
      const { endpointId } = await registerDemoReceiver(
        run.client.baseUrl,
        run.client.apiKey,
        receiver,
        ['transfer.posted', 'transfer.failed'],
      );
      process.stdout.write(`Webhook receiver ${receiver.url} registered as ${endpointId}\n`);
    },
    async check(run: DemoRun, stats: ReplayStats): Promise<Check[]> {
      if (!receiver) return [];
      const settled = [...stats.transfers.values()].filter((t) => t.status !== 'pending');
      const started = Date.now();
      await receiver.waitForEvents(settled.length, DELIVERY_WAIT_MS);
      const waited = Date.now() - started;
      return [
        ...deliveryChecks(receiver, settled, waited),
        await feedCheck(run.client, settled.length),
      ];
    },
    async close() {
      await receiver?.close();
    },
  };
}

interface FeedPage {
  data: { id: string; sequence: number | null }[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * Walks the whole event feed with its cursor, as a receiver catching up
 * would: every event once, numbered 1, 2, 3... with no gap.
 */
async function feedCheck(client: ApiClient, settled: number): Promise<Check> {
  const sequences: (number | null)[] = [];
  let cursor: string | null = null;
  do {
    const after: string = cursor ? `&after=${cursor}` : '';
    const answer = await client.send({ method: 'GET', path: `/v1/events?limit=100${after}` });
    if (answer.status !== 200) {
      return {
        name: 'event feed',
        pass: false,
        detail: `GET /v1/events answered ${answer.status}`,
      };
    }
    const page = answer.body as FeedPage;
    sequences.push(...page.data.map((event) => event.sequence));
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor);
  const inOrder = sequences.every((sequence, index) => sequence === index + 1);
  const range = `1..${sequences.length}${inOrder ? '' : ' with gaps or repeats'}`;
  return {
    name: 'event feed: every event once, numbered without a gap',
    pass: inOrder && sequences.length === settled,
    detail: `${sequences.length} events for ${settled} settled transfers, sequences ${range}`,
  };
}

function deliveryChecks(
  receiver: DemoReceiver,
  settled: { id: string; status: string }[],
  waitedMs: number,
): Check[] {
  const stats = receiver.stats();
  const byTransfer = new Map<string, string>();
  for (const event of receiver.events()) {
    const id = event.data.id;
    if (typeof id === 'string') byTransfer.set(id, event.type);
  }
  const missing = settled
    .filter((transfer) => byTransfer.get(transfer.id) !== `transfer.${transfer.status}`)
    .map((transfer) => `${transfer.id} (${transfer.status})`);

  return [
    {
      name: 'webhooks: one event delivered per settled transfer',
      pass: stats.delivered === settled.length && missing.length === 0,
      detail:
        `${stats.delivered} events for ${settled.length} settled transfers, ` +
        `last one ${waitedMs} ms after the replay settled` +
        examples(missing),
    },
    {
      name: 'webhooks: every signature valid (standardwebhooks library)',
      pass: stats.invalidSignatures === 0 && stats.validSignatures >= stats.delivered,
      detail:
        `${stats.validSignatures} valid, ${stats.invalidSignatures} invalid, ` +
        `${stats.duplicates} redelivered duplicates, ${stats.requests} requests`,
    },
  ];
}
