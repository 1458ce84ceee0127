import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createEndpoint,
  type DeliveryWithAttempts,
  deleteEndpoint,
  getEndpoint,
  pageDeliveries,
  pageEndpoints,
  retryDelivery,
  rotateEndpointSecret,
  updateEndpoint,
  type WebhookServiceDeps,
} from '../../services/webhook-endpoints.js';
import { deliveryView, endpointView, endpointWithSecretView } from '../../webhooks/views.js';
import { noBody } from '../middleware/no-body.js';
import { noQuery } from '../middleware/no-query.js';
import { actorOf, idempotentRequest, listBody, markReplay } from '../request.js';
import {
  conflictResponse,
  errorResponses,
  IdempotencyHeaders,
  idParam,
  PageQuery,
} from '../schemas/common.js';
import {
  CreateEndpointBody,
  Delivery,
  DeliveryList,
  DeliveryStatus,
  Endpoint,
  EndpointList,
  EndpointWithSecret,
  UpdateEndpointBody,
} from '../schemas/webhooks.js';
import type { AppEnv, Deps } from '../types.js';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
const EndpointId = idParam('whep');
const DeliveryParams = EndpointId.extend({
  // Any string, as for every id: one that cannot exist names nothing (404).
  delivery_id: z
    .string()
    .min(1)
    .openapi({
      param: { name: 'delivery_id', in: 'path' },
      example: 'whdl_01hx0000000000000000000000',
    }),
});
const tags = ['webhooks'];

const create = createRoute({
  method: 'post',
  middleware: [noQuery],
  path: '/v1/webhook-endpoints',
  tags,
  summary: 'Register a webhook endpoint',
  description:
    'Answers the endpoint with its `whsec_` signing secret, shown only here. A repeat with ' +
    'the same Idempotency-Key answers the endpoint without the secret.',
  request: { body: { ...json(CreateEndpointBody), required: true }, headers: IdempotencyHeaders },
  responses: {
    201: {
      description: 'The new endpoint (its secret only on first creation)',
      ...json(EndpointWithSecret.or(Endpoint)),
    },
    ...errorResponses,
    ...conflictResponse,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints',
  tags,
  summary: 'List webhook endpoints, newest first',
  request: { query: PageQuery },
  responses: {
    200: { description: 'A page of endpoints', ...json(EndpointList) },
    ...errorResponses,
  },
});

const read = createRoute({
  method: 'get',
  middleware: [noQuery],
  path: '/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Read a webhook endpoint',
  request: { params: EndpointId },
  responses: { 200: { description: 'The endpoint', ...json(Endpoint) }, ...errorResponses },
});

const update = createRoute({
  method: 'patch',
  middleware: [noQuery],
  path: '/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Change the URL, event types, description, or enable or disable',
  request: { params: EndpointId, body: { ...json(UpdateEndpointBody), required: true } },
  responses: { 200: { description: 'The endpoint', ...json(Endpoint) }, ...errorResponses },
});

const remove = createRoute({
  method: 'delete',
  middleware: [noQuery],
  path: '/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Delete a webhook endpoint (kept, no longer sent to or listed)',
  request: { params: EndpointId },
  responses: { 200: { description: 'The deleted endpoint', ...json(Endpoint) }, ...errorResponses },
});

const rotate = createRoute({
  method: 'post',
  middleware: [noQuery, noBody],
  path: '/v1/webhook-endpoints/{id}/rotate-secret',
  tags,
  summary: 'Issue a new signing secret',
  description:
    'The previous secret keeps signing next to the new one for a while ' +
    '(`previous_secret_expires_at`). The new secret is shown only in this answer.',
  request: { params: EndpointId, headers: IdempotencyHeaders },
  responses: {
    200: {
      description: 'The endpoint with its new secret',
      ...json(EndpointWithSecret.or(Endpoint)),
    },
    ...errorResponses,
    ...conflictResponse,
  },
});

const deliveries = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  tags,
  summary: "List an endpoint's deliveries, newest first, with every attempt",
  request: { params: EndpointId, query: PageQuery.extend({ status: DeliveryStatus.optional() }) },
  responses: {
    200: { description: 'A page of deliveries', ...json(DeliveryList) },
    ...errorResponses,
  },
});

const retry = createRoute({
  method: 'post',
  middleware: [noQuery, noBody],
  path: '/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry',
  tags,
  summary: 'Send a delivery again now',
  request: { params: DeliveryParams, headers: IdempotencyHeaders },
  responses: {
    202: { description: 'The delivery, due now', ...json(Delivery) },
    ...errorResponses,
    ...conflictResponse,
  },
});

function view({ delivery, attempts }: DeliveryWithAttempts) {
  return deliveryView(delivery, attempts);
}

export function registerWebhookEndpointRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const service: WebhookServiceDeps = { ...deps, deliveryQueue: deps.deliveries };

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const request = idempotentRequest(c, '/v1/webhook-endpoints', { required: false, body });
    const result = await createEndpoint(
      service,
      actorOf(c),
      { url: body.url, description: body.description ?? null, eventTypes: body.event_types },
      request,
    );
    markReplay(c, result.replayed);
    const answer = result.replayed
      ? endpointView(result.resource)
      : endpointWithSecretView(result.resource);
    return c.json(answer, 201);
  });

  app.openapi(list, async (c) => {
    const query = c.req.valid('query');
    const page = await pageEndpoints(deps.sql, actorOf(c).tenantId, {
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    return c.json(listBody(page, endpointView), 200);
  });

  app.openapi(read, async (c) => {
    const endpoint = await getEndpoint(deps.sql, actorOf(c).tenantId, c.req.valid('param').id);
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(update, async (c) => {
    const body = c.req.valid('json');
    const endpoint = await updateEndpoint(service, actorOf(c), c.req.valid('param').id, {
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      enabled: body.enabled,
    });
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(remove, async (c) => {
    const endpoint = await deleteEndpoint(deps.sql, actorOf(c), c.req.valid('param').id);
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const request = idempotentRequest(c, `/v1/webhook-endpoints/${id}/rotate-secret`, {
      required: false,
      body: null,
    });
    const result = await rotateEndpointSecret(service, actorOf(c), id, request);
    markReplay(c, result.replayed);
    const answer = result.replayed
      ? endpointView(result.resource)
      : endpointWithSecretView(result.resource);
    return c.json(answer, 200);
  });

  app.openapi(deliveries, async (c) => {
    const query = c.req.valid('query');
    const page = await pageDeliveries(
      deps.sql,
      actorOf(c).tenantId,
      c.req.valid('param').id,
      { limit: query.limit, startingAfter: query.starting_after },
      { status: query.status },
    );
    return c.json(listBody(page, view), 200);
  });

  app.openapi(retry, async (c) => {
    const params = c.req.valid('param');
    const path = `/v1/webhook-endpoints/${params.id}/deliveries/${params.delivery_id}/retry`;
    const request = idempotentRequest(c, path, { required: false, body: null });
    const result = await retryDelivery(
      service,
      actorOf(c),
      { endpointId: params.id, deliveryId: params.delivery_id },
      request,
    );
    markReplay(c, result.replayed);
    return c.json(view(result.resource), 202);
  });
}
