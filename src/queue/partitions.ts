import { createHash } from 'node:crypto';

/**
 * The partition of a source account: a stable hash of its id modulo the
 * number of partitions. All transfers from one account share a partition, and
 * so one queue, which runs one job at a time across every worker process.
 */
export function partitionOf(sourceAccountId: string, partitions: number): number {
  const digest = createHash('sha1').update(sourceAccountId).digest();
  return digest.readUInt32BE(0) % partitions;
}

export function transferQueueName(partition: number): string {
  return `transfers-p${partition}`;
}

export const WEBHOOK_QUEUE_NAME = 'webhook-deliveries';

export interface TransferJobData {
  transferId: string;
  tenantId: string;
}
