import { z } from '@hono/zod-openapi';
import { listOf, Timestamp } from './common.js';

export const EventType = z
  .enum(['transfer.posted', 'transfer.failed', 'account.closed', 'endpoint.disabled'])
  .openapi('EventType');

export const Event = z
  .object({
    id: z.string(),
    object: z.literal('event'),
    type: EventType,
    sequence: z.number().int().nullable().openapi({
      description: 'Per tenant; only grows. Null for the moment between commit and numbering.',
    }),
    created_at: Timestamp,
    data: z.record(z.string(), z.unknown()).openapi({
      description: 'The resource as it was when the event happened.',
    }),
  })
  .openapi('Event');

export const EventList = listOf(Event, 'EventList');

export const EventFeedQuery = z
  .object({
    after: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'A sequence number or an event id: the page starts after it.' }),
    starting_after: z.string().min(1).max(64).optional().openapi({
      description: 'The same as `after`, under the name every other list uses.',
    }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    type: EventType.optional(),
  })
  .strict()
  .refine((query) => query.after === undefined || query.starting_after === undefined, {
    path: ['starting_after'],
    message: 'give either after or starting_after, not both',
  });
