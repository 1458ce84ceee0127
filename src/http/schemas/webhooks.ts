import { z } from '@hono/zod-openapi';
import { listOf, Timestamp } from './common.js';
import { EventType } from './events.js';

/** One enum rather than a union, so that a wrong type is answered with the ones there are. */
export const EndpointEventType = z
  .enum([...EventType.options, '*'])
  .openapi({ description: 'An event type, or `*` for every type.' });

const Url = z.string().min(1).max(2048).openapi({ example: 'https://example.com/webhooks' });
const EventTypes = z.array(EndpointEventType).min(1).max(10);
const Description = z.string().max(500).nullable();

export const CreateEndpointBody = z
  .object({
    url: Url,
    event_types: EventTypes,
    description: Description.optional(),
  })
  .strict()
  .openapi('CreateWebhookEndpoint');

export const UpdateEndpointBody = z
  .object({
    url: Url.optional(),
    event_types: EventTypes.optional(),
    description: Description.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('UpdateWebhookEndpoint');

export const Endpoint = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(EndpointEventType),
    enabled: z.boolean(),
    disabled_reason: z.enum(['manual', 'gone', 'failing']).nullable(),
    previous_secret_expires_at: Timestamp.nullable().openapi({
      description: 'Until then the previous secret signs too, next to the current one.',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
    disabled_at: Timestamp.nullable(),
    deleted: z.boolean(),
  })
  .openapi('WebhookEndpoint');

export const EndpointWithSecret = Endpoint.extend({
  secret: z.string().openapi({
    description: 'The `whsec_` signing secret. Shown only in this answer.',
  }),
}).openapi('WebhookEndpointWithSecret');

export const Attempt = z
  .object({
    attempt: z.number().int(),
    manual: z.boolean(),
    started_at: Timestamp,
    duration_ms: z.number().int(),
    succeeded: z.boolean(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    response_body: z.string().nullable().openapi({ description: 'The first 1 KiB of the answer.' }),
  })
  .openapi('WebhookAttempt');

export const DeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

export const Delivery = z
  .object({
    id: z.string(),
    object: z.literal('webhook_delivery'),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: EventType,
    status: DeliveryStatus,
    attempt_count: z.number().int(),
    next_attempt_at: Timestamp.nullable(),
    failure_reason: z.enum(['attempts_exhausted', 'endpoint_gone', 'endpoint_disabled']).nullable(),
    created_at: Timestamp,
    completed_at: Timestamp.nullable(),
    attempts: z.array(Attempt),
  })
  .openapi('WebhookDelivery');

export const EndpointList = listOf(Endpoint, 'WebhookEndpointList');
export const DeliveryList = listOf(Delivery, 'WebhookDeliveryList');
